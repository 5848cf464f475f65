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
        if (context.Route.Metadata is null || !context.Route.Metadata.TryGetValue(TunnelMetadata.Name, out var name)) return;
        context.AddOriginalHost(true);
        context.AddRequestHeader(LinkProtocol.StreamTunnelHeader, name, append: false);
        context.AddRequestHeaderRemove(LinkProtocol.StreamKindHeader);
        context.AddRequestTransform(static transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            headers.Remove(LinkProtocol.StreamClientIpHeader);
            var remote = transform.HttpContext.Connection.RemoteIpAddress;
            if (remote is not null)
            {
                if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
                headers.TryAddWithoutValidation(LinkProtocol.StreamClientIpHeader, remote.ToString());
            }
            return ValueTask.CompletedTask;
        });
    }
}
