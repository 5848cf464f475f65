using System.Net;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Agent.Inspector;

/// <summary>
/// Sends a captured request to the local server again (ngrok's Replay), through the same tunnel's
/// forwarding rules (Host policy, added request headers, removed response headers), and records
/// the result as a new entry marked as a replay. Visitor rules (CIDR, basic auth) are not applied:
/// the person at the inspector is the tunnel's owner.
/// </summary>
internal sealed class RequestReplayer(AgentTunnelTable tunnels, IHttpForwarder forwarder, InspectorStore store, TimeProvider time) : IDisposable
{
    private readonly HttpMessageInvoker _local = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ActivityHeadersPropagator = null,
        // Like the agent's forwarding: local servers commonly use self-signed certificates.
        SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
    });

    // A replay is one person waiting on one request; a minute is generous for a local server.
    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromMinutes(1) };

    public async Task<(CapturedExchange? Entry, string? Error)> ReplayAsync(CapturedExchange original, ReplayEdits edits, CancellationToken cancellationToken)
    {
        if (tunnels.Find(original.Tunnel) is not { } tunnel)
            return (null, $"this agent no longer serves the tunnel '{original.Tunnel}' (the edge gave it a new name after a reconnect?); replay a newer request");
        if (original.RequestBody.Truncated && edits.Body is null)
            return (null, $"the captured request body was cut at {original.RequestBody.Data.Length} of {original.RequestBody.Size} bytes, so it cannot be replayed as it was; send an edited body");

        var context = new DefaultHttpContext { RequestAborted = cancellationToken };
        var request = context.Request;
        request.Protocol = "HTTP/1.1";
        request.Scheme = "http";
        request.Method = edits.Method ?? original.Method;
        var target = edits.Target ?? original.Target;
        var query = target.IndexOf('?');
        request.Path = PathString.FromUriComponent(query < 0 ? target : target[..query]);
        request.QueryString = query < 0 ? QueryString.Empty : new QueryString(target[query..]);
        foreach (var (name, value) in edits.Headers ?? original.RequestHeaders)
        {
            // The body is replayed whole, so framing comes from its length, not the original's.
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) continue;
            request.Headers.Append(name, value);
        }
        var body = edits.Body ?? original.RequestBody.Data;
        if (body.Length > 0) request.ContentLength = body.Length;
        request.Body = new MemoryStream(body, writable: false);

        var capture = ExchangeCapture.Begin(context, store.Options.BodyLimit, time);
        var result = await forwarder.SendAsync(context, tunnel.Destination, _local, RequestConfig, tunnel.Transformer, cancellationToken);
        string? error = null;
        if (result != ForwarderError.None)
        {
            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            error = TunnelRequestHandler.IsConnectFailure(exception, out var reason)
                ? $"could not connect to {tunnel.Options.TargetText} ({reason})"
                : $"{tunnel.Options.TargetText} failed to answer ({result}: {exception?.Message})";
        }
        var entry = await capture.EndAsync(error, original.Id);
        return (store.Add(entry with { Tunnel = original.Tunnel, ClientIp = null }), null);
    }

    public void Dispose() => _local.Dispose();
}
