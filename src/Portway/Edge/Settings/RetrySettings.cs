using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>clusters[].retries as <see cref="Retries.RetryMiddleware"/> uses them (defaults: <see cref="RetryConfig"/>).</summary>
internal sealed record RetrySettings(int Attempts, double BudgetPercent, bool NonIdempotent)
{
    public static readonly RetrySettings Default = From(new RetryConfig());

    /// <summary>At least one try, and a budget that is a share of the cluster's requests.</summary>
    public static RetrySettings From(RetryConfig config) =>
        new(Math.Max(1, config.Attempts), Math.Clamp(config.BudgetPercent, 0, 100), config.NonIdempotent);
}
