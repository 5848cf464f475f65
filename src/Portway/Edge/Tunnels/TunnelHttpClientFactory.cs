using Portway.Edge.Forwarding;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Decorates the edge's client factory: tunnel clusters get a client on the shared link handler
/// (<see cref="TunnelConnector"/>); file clusters with tunnel destinations get their own client
/// wrapped so tunnel names go over the links (<see cref="MixedClusterHandler"/>); every other
/// cluster is built as before.
/// </summary>
internal sealed class TunnelHttpClientFactory(PortwayHttpClientFactory inner, TunnelConnector connector) : IForwarderHttpClientFactory
{
    public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context)
    {
        if (context.NewMetadata is { } metadata && metadata.ContainsKey(TunnelMetadata.Name))
            return context.OldClient ?? new HttpMessageInvoker(connector.Handler, disposeHandler: false);

        // The inner factory reuses or replaces the servers' client; it must never see the wrapper.
        var oldWrapper = context.OldClient as MixedClusterClient;
        if (oldWrapper is not null)
        {
            context = new ForwarderHttpClientContext
            {
                ClusterId = context.ClusterId,
                OldConfig = context.OldConfig,
                OldMetadata = context.OldMetadata,
                OldClient = oldWrapper.Handler.Servers,
                NewConfig = context.NewConfig,
                NewMetadata = context.NewMetadata,
            };
        }
        var servers = inner.CreateClient(context);
        if (context.NewMetadata is null || !context.NewMetadata.ContainsKey(TunnelMetadata.HasTunnelDestinations)) return servers;
        if (oldWrapper is not null && ReferenceEquals(oldWrapper.Handler.Servers, servers)) return oldWrapper;
        return new MixedClusterClient(new MixedClusterHandler(servers, connector.Invoker));
    }
}
