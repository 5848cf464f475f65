using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// YARP policy names for Portway's config names. Built-in YARP policies are used where they exist.
/// Here, below the policies and the mapper, because both name them: the mapper writes the name into
/// YARP's cluster config, each policy registers under it.
/// </summary>
internal static class PolicyNames
{
    public const string WeightedRoundRobin = "Portway.WeightedRoundRobin";
    public const string ConsistentHash = "Portway.ConsistentHash";
    public const string PeakEwma = "Portway.PeakEwma";
    public const string FirstAvailable = "Portway.FirstAvailable";
    public const string ActiveHealth = "Portway.ActiveHealth";
    public const string PassiveHealth = "Portway.ConsecutiveFailures";

    public static string LoadBalancing(string configName) => configName switch
    {
        LoadBalancingNames.RoundRobin => "RoundRobin",
        LoadBalancingNames.LeastRequests => "LeastRequests",
        LoadBalancingNames.PowerOfTwoChoices => "PowerOfTwoChoices",
        LoadBalancingNames.Random => "Random",
        LoadBalancingNames.WeightedRoundRobin => WeightedRoundRobin,
        LoadBalancingNames.ConsistentHash => ConsistentHash,
        LoadBalancingNames.PeakEwma => PeakEwma,
        LoadBalancingNames.FirstAvailable => FirstAvailable,
        _ => throw new ArgumentOutOfRangeException(nameof(configName), configName, "validated before mapping"),
    };
}
