using Portway.Edge.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Decorates the edge's client factory: tunnel clusters get a client on the shared link handler
/// (<see cref="TunnelConnector"/>); every other cluster is built as before.
/// </summary>
internal sealed class TunnelHttpClientFactory(PortwayHttpClientFactory inner, TunnelConnector connector) : IForwarderHttpClientFactory
{
    public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context)
    {
        if (context.NewMetadata is { } metadata && metadata.ContainsKey(TunnelMetadata.Name))
            return context.OldClient ?? new HttpMessageInvoker(connector.Handler, disposeHandler: false);
        return inner.CreateClient(context);
    }
}
