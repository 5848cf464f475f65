using System.Net;
using System.Net.Security;

namespace Portway.Protocol;

/// <summary>
/// The agent's half of the link handshake on an edge listener that speaks only HTTP/2: one extended
/// CONNECT (RFC 8441 §4) with <c>:protocol</c> = <see cref="LinkProtocol.UpgradeToken"/>, the same
/// path and headers as the HTTP/1.1 upgrade. A 200 makes the stream the link; anything else is a
/// refusal read like <see cref="UpgradeClient"/> reads one. One connection per link, as over HTTP/1.1,
/// so one link's loss or flow-control stall never takes the others with it.
/// </summary>
internal static class Http2LinkClient
{
    /// <summary>Refusal bodies are one short sentence; anything larger is not a Portway edge.</summary>
    private const int MaxBodyBytes = 16 * 1024;

    /// <param name="connect">Opens the TCP connection (the caller's socket options); TLS goes on top here.</param>
    /// <param name="tls">For https edges: the link's TLS options (CA, --insecure); ALPN is set to h2 here.</param>
    public static async Task<UpgradeResponse> SendAsync(Uri edge, SslClientAuthenticationOptions? tls,
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> connect,
        IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = connect,
            // The link lives as long as it is useful; the edge's standby pings decide when it is dead.
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        if (tls is not null)
        {
            tls.ApplicationProtocols = [SslApplicationProtocol.Http2];
            handler.SslOptions = tls;
        }
        var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        HttpResponseMessage? response = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Connect, new Uri(edge, LinkProtocol.Path))
            {
                Version = HttpVersion.Version20,
                // h2c by prior knowledge on http://, ALPN h2 on https://; never a silent HTTP/1.1 downgrade.
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                // No request content: for an extended CONNECT the handler makes the response body
                // stream writable, and that one stream is the whole link.
            };
            request.Headers.Protocol = LinkProtocol.UpgradeToken;
            foreach (var (k, v) in headers)
            {
                if (!request.Headers.TryAddWithoutValidation(k, v)) throw new ArgumentException($"header {k} cannot be sent", nameof(headers));
            }
            // SocketsHttpHandler returns at the response head; the bodies stay streaming.
            response = await invoker.SendAsync(request, cancellationToken);
            var list = new List<KeyValuePair<string, string>>();
            foreach (var (k, values) in response.Headers)
            {
                foreach (var v in values) list.Add(new(k, v));
            }
            var code = (int)response.StatusCode;
            if (code != 200)
            {
                var body = await ReadBodyAsync(response, cancellationToken);
                response.Dispose();
                invoker.Dispose();
                return new UpgradeResponse { StatusCode = code, Reason = response.ReasonPhrase ?? "", Headers = list, Body = body };
            }
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (!stream.CanWrite) throw new InvalidDataException("the edge's 200 to the extended CONNECT gave no writable stream");
            return new UpgradeResponse { StatusCode = code, Reason = "", Headers = list, Link = new Http2LinkStream(stream, response, invoker) };
        }
        catch
        {
            response?.Dispose();
            invoker.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBodyBytes];
        var filled = 0;
        int n;
        while (filled < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0) filled += n;
        return System.Text.Encoding.UTF8.GetString(buffer, 0, filled).Trim();
    }
}
