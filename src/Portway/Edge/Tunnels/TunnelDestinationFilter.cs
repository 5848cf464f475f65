using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Before load balancing, in a file cluster with tunnel destinations: a tunnel whose agents are
/// all offline is not a candidate, so the balancer sends to the servers (and the 503 page names
/// the cluster only when nothing is left) instead of failing the request on the missing link.
/// </summary>
internal sealed class TunnelDestinationFilter(RequestDelegate next, TunnelConnector connector)
{
    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        if (proxy.Cluster.Config.Metadata?.ContainsKey(TunnelMetadata.HasTunnelDestinations) != true) return next(context);
        var available = proxy.AvailableDestinations;
        var offline = 0;
        for (var i = 0; i < available.Count; i++)
        {
            if (IsOffline(available[i])) offline++;
        }
        if (offline > 0)
        {
            var online = new DestinationState[available.Count - offline];
            var j = 0;
            for (var i = 0; i < available.Count; i++)
            {
                if (!IsOffline(available[i])) online[j++] = available[i];
            }
            proxy.AvailableDestinations = online;
        }
        return next(context);
    }

    private bool IsOffline(DestinationState destination) =>
        destination.Model.Config.Metadata is { } m && m.TryGetValue(TunnelMetadata.Destination, out var name) && !connector.IsOnline(name);
}
