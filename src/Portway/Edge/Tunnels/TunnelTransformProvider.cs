using Microsoft.AspNetCore.Http;
using Portway.Edge.Clients;
using Portway.Edge.Settings;
using Portway.Protocol;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Portway.Edge.Tunnels;

/// <summary>
/// What the edge adds to a request bound for a tunnel: the visitor's Host unchanged (YARP would
/// put the destination's in; the agent and the local server must see the public name), the tunnel
/// name so the agent knows which local server it is for, and the visitor's address for the agent's
/// CIDR rules. Visitors cannot forge the portway-* headers: they are replaced, never appended to.
/// </summary>
internal sealed class TunnelTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Cluster?.Metadata?.ContainsKey(TunnelMetadata.HasTunnelDestinations) == true)
        {
            // A file route whose cluster mixes servers and tunnels: which one gets the request is
            // known only once the balancer chose, so decide per request.
            context.AddRequestTransform(MixedClusterTransformAsync);
            return;
        }
        if (context.Route.Metadata is null || !context.Route.Metadata.TryGetValue(TunnelMetadata.Name, out var name)) return;
        context.AddOriginalHost(true);
        context.AddRequestHeader(LinkProtocol.StreamTunnelHeader, name, append: false);
        context.AddRequestHeaderRemove(LinkProtocol.StreamKindHeader);
        context.AddRequestTransform(static transform =>
        {
            SetClientIp(transform);
            return ValueTask.CompletedTask;
        });
    }

    private static void SetClientIp(RequestTransformContext transform)
    {
        var headers = transform.ProxyRequest.Headers;
        headers.Remove(LinkProtocol.StreamClientIpHeader);
        var remote = ClientAddress.Of(transform.HttpContext);
        if (remote is not null)
        {
            if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
            headers.TryAddWithoutValidation(LinkProtocol.StreamClientIpHeader, remote.ToString());
        }
    }

    /// <summary>For a tunnel chosen in a mixed cluster, what a tunnel route's transforms add; servers get the request as configured.</summary>
    private static ValueTask MixedClusterTransformAsync(RequestTransformContext transform)
    {
        var destination = transform.HttpContext.GetReverseProxyFeature().ProxiedDestination;
        if (destination?.Model.Config.Metadata is not { } metadata || !metadata.TryGetValue(TunnelMetadata.Destination, out var name))
            return ValueTask.CompletedTask;
        var headers = transform.ProxyRequest.Headers;
        transform.ProxyRequest.Options.Set(MixedClusterHandler.VisitorHost, transform.HttpContext.Request.Host.Value ?? "");
        headers.Remove(LinkProtocol.StreamTunnelHeader);
        headers.TryAddWithoutValidation(LinkProtocol.StreamTunnelHeader, name);
        headers.Remove(LinkProtocol.StreamKindHeader);
        SetClientIp(transform);
        return ValueTask.CompletedTask;
    }
}
