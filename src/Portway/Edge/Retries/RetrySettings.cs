using Portway.Configuration;
using Portway.Edge.LoadBalancing;
using Portway.Edge.Routing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Retries;

/// <summary>clusters[].retries, read from cluster metadata once per config (defaults: <see cref="RetryConfig"/>).</summary>
internal sealed record RetrySettings(int Attempts, double BudgetPercent, bool NonIdempotent)
{
    private static readonly RetryConfig Defaults = new();

    public static RetrySettings From(ClusterModel model)
    {
        var m = model.Config.Metadata;
        return new RetrySettings(
            Math.Max(1, MetadataValues.Int(m, MetadataKeys.RetryAttempts, Defaults.Attempts)),
            Math.Clamp(MetadataValues.Double(m, MetadataKeys.RetryBudgetPercent, Defaults.BudgetPercent), 0, 100),
            MetadataValues.Bool(m, MetadataKeys.RetryNonIdempotent, Defaults.NonIdempotent));
    }
}
