using System.Net;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// The HTTP client of a file cluster that has tunnel destinations: requests for a tunnel name go
/// over the shared tunnel client as HTTP/2 (the agent is an HTTP/2-only server), every other
/// request over the cluster's own client, with its timeouts and upstream TLS. Active health probes
/// use this client too, so a tunnel destination is probed through its link like any server.
/// </summary>
internal sealed class MixedClusterHandler(HttpMessageInvoker servers, HttpMessageInvoker tunnels) : HttpMessageHandler
{
    /// <summary>The cluster's own client, for the factory to hand back unchanged when only its tunnels changed.</summary>
    public HttpMessageInvoker Servers { get; } = servers;

    /// <summary>The visitor's Host, for a request that goes to a tunnel (set by the mixed-cluster transform).</summary>
    public static readonly HttpRequestOptionsKey<string> VisitorHost = new("Portway.VisitorHost");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!TunnelConnector.IsNameAddress(request.RequestUri)) return Servers.SendAsync(request, cancellationToken);
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        // Set here, after every transform: YARP's own Host transform runs after ours and would
        // leave the internal tunnel address as the Host the local server sees.
        if (request.Options.TryGetValue(VisitorHost, out var host)) request.Headers.Host = host;
        // Health probes carry no transforms; the agent needs the name to pick its local server.
        if (!request.Headers.Contains(LinkProtocol.StreamTunnelHeader))
            request.Headers.TryAddWithoutValidation(LinkProtocol.StreamTunnelHeader, request.RequestUri!.Host[..^TunnelConnector.NameHostSuffix.Length]);
        return tunnels.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        // The tunnel client is shared by every tunnel cluster; only the servers' client is ours.
        if (disposing) Servers.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The client YARP holds for a mixed cluster; keeps the handler reachable for the next config change.</summary>
internal sealed class MixedClusterClient(MixedClusterHandler handler) : HttpMessageInvoker(handler, disposeHandler: true)
{
    public MixedClusterHandler Handler { get; } = handler;
}
