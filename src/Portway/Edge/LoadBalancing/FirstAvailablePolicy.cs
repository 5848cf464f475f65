using Microsoft.AspNetCore.Http;
using Portway.Edge.Routing;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Failover: the first destination in config order that health checks have not taken out
/// (HAProxy's "balance first", an active/backup pair). Order comes from the Portway.Order metadata,
/// the destination's position in the file; YARP's own list order is not the file's.
/// </summary>
internal sealed class FirstAvailablePolicy : ILoadBalancingPolicy
{
    public string Name => PolicyNames.FirstAvailable;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        DestinationState? best = null;
        var bestOrder = int.MaxValue;
        for (var i = 0; i < availableDestinations.Count; i++)
        {
            var destination = availableDestinations[i];
            var order = MetadataValues.Int(destination.Model.Config.Metadata, MetadataKeys.Order, int.MaxValue);
            if (best is null || order < bestOrder)
            {
                best = destination;
                bestOrder = order;
            }
        }
        return best;
    }
}
