using System.Collections.Frozen;
using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// A cluster's settings for Portway's own policies (retries, health thresholds, hashing, weights),
/// built once per config beside YARP's <c>ClusterConfig</c>. Policies that keep state derived from
/// these (a hash ring, round-robin scores) key it on this instance: a reload that leaves the
/// cluster's config equal keeps the instance (<see cref="EdgeSettings.Build"/>), so it keeps that state too.
/// </summary>
internal sealed class ClusterSettings
{
    /// <summary>For clusters Portway's config does not list (tunnel clusters): every setting at its default.</summary>
    public static readonly ClusterSettings Default = new(null, RetrySettings.Default, ActiveHealthSettings.Default,
        new PassiveHealthConfig().ConsecutiveFailures, null, FrozenDictionary<string, DestinationSettings>.Empty);

    private readonly FrozenDictionary<string, DestinationSettings> _destinations;

    public ClusterSettings(Configuration.ClusterConfig? source, RetrySettings retries, ActiveHealthSettings activeHealth,
        int passiveConsecutiveFailures, string? hashOn, FrozenDictionary<string, DestinationSettings> destinations)
    {
        Source = source;
        Retries = retries;
        ActiveHealth = activeHealth;
        PassiveConsecutiveFailures = passiveConsecutiveFailures;
        HashOn = hashOn;
        _destinations = destinations;
    }

    /// <summary>The config these were built from; null for <see cref="Default"/>.</summary>
    public Configuration.ClusterConfig? Source { get; }
    public RetrySettings Retries { get; }
    public ActiveHealthSettings ActiveHealth { get; }
    /// <summary>health.passive.consecutive_failures, at least 1.</summary>
    public int PassiveConsecutiveFailures { get; }
    /// <summary>consistent_hash's key as written (client_ip, header:NAME, cookie:NAME); null = client_ip.</summary>
    public string? HashOn { get; }

    /// <summary>The destination's settings by its id (YARP's destination ids are case-insensitive too).</summary>
    public DestinationSettings Destination(string destinationId) =>
        _destinations.TryGetValue(destinationId, out var settings) ? settings : DestinationSettings.Default;

    /// <summary>Built from the validated config; instances equal to the previous build's are reused.</summary>
    public static ClusterSettings From(Configuration.ClusterConfig c, ClusterSettings? previous)
    {
        var destinations = new Dictionary<string, DestinationSettings>(c.Destinations.Length, StringComparer.OrdinalIgnoreCase);
        var order = 0;
        foreach (var d in c.Destinations)
        {
            var settings = new DestinationSettings(Math.Max(0, d.Weight), order++);
            if (previous is not null && previous._destinations.TryGetValue(d.Id, out var old) && old == settings) settings = old;
            destinations[d.Id] = settings;
        }
        return new ClusterSettings(c, RetrySettings.From(c.Retries),
            c.ActiveHealth is null ? ActiveHealthSettings.Default : ActiveHealthSettings.From(c.ActiveHealth),
            Math.Max(1, (c.PassiveHealth ?? new PassiveHealthConfig()).ConsecutiveFailures), c.HashOn,
            destinations.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }
}
