namespace Portway.Edge.Routing;

/// <summary>Keys under which Portway's own policies find their settings in YARP metadata.</summary>
internal static class MetadataKeys
{
    public const string Weight = "Portway.Weight";
    /// <summary>The destination's position in the config file (failover order for first_available).</summary>
    public const string Order = "Portway.Order";
    public const string HashOn = "Portway.HashOn";
    public const string ConnectTimeout = "Portway.ConnectTimeoutMs";
    public const string RetryAttempts = "Portway.Retry.Attempts";
    public const string RetryBudgetPercent = "Portway.Retry.BudgetPercent";
    public const string RetryNonIdempotent = "Portway.Retry.NonIdempotent";
    public const string HealthExpectMin = "Portway.Health.ExpectMin";
    public const string HealthExpectMax = "Portway.Health.ExpectMax";
    public const string HealthUnhealthyAfter = "Portway.Health.UnhealthyAfter";
    public const string HealthHealthyAfter = "Portway.Health.HealthyAfter";
    /// <summary>On a route: "true" when the shared cache serves it (Edge/Caching).</summary>
    public const string Cache = "Portway.Cache";
    public const string PassiveConsecutiveFailures = "Portway.Health.ConsecutiveFailures";
}
