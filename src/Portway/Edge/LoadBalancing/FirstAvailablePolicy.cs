using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Failover: the first destination in config order that health checks have not taken out
/// (HAProxy's "balance first", an active/backup pair). Order is the destination's position in the
/// file (<see cref="DestinationSettings.Order"/>); YARP's own list order is not the file's.
/// </summary>
internal sealed class FirstAvailablePolicy(PortwayProxyConfigProvider config) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.FirstAvailable;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var settings = config.Settings.Cluster(cluster.ClusterId);
        DestinationState? best = null;
        var bestOrder = int.MaxValue;
        for (var i = 0; i < availableDestinations.Count; i++)
        {
            var destination = availableDestinations[i];
            var order = settings.Destination(destination.DestinationId).Order;
            if (best is null || order < bestOrder)
            {
                best = destination;
                bestOrder = order;
            }
        }
        return best;
    }
}
