using Portway.Configuration;
using Portway.Edge.LoadBalancing;
using Portway.Edge.Routing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Health;

/// <summary>clusters[].health.active settings YARP has no field for, read from cluster metadata once per config.</summary>
internal sealed record ActiveHealthSettings(int ExpectMin, int ExpectMax, int UnhealthyAfter, int HealthyAfter)
{
    private static readonly ActiveHealthConfig Defaults = new();

    public static ActiveHealthSettings From(ClusterModel model)
    {
        var m = model.Config.Metadata;
        return new ActiveHealthSettings(
            MetadataValues.Int(m, MetadataKeys.HealthExpectMin, Defaults.ExpectMin),
            MetadataValues.Int(m, MetadataKeys.HealthExpectMax, Defaults.ExpectMax),
            Math.Max(1, MetadataValues.Int(m, MetadataKeys.HealthUnhealthyAfter, Defaults.UnhealthyAfter)),
            Math.Max(1, MetadataValues.Int(m, MetadataKeys.HealthHealthyAfter, Defaults.HealthyAfter)));
    }
}
