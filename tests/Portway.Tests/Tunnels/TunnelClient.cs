using System.Net;
using System.Net.Sockets;

namespace Portway.Tests.Tunnels;

/// <summary>
/// An HttpClient that reaches NAME.localhost:PORT URLs on the edge whatever the resolver does with
/// *.localhost: every connection goes to 127.0.0.1 on the URL's port, the Host header stays the URL's.
/// </summary>
internal static class TunnelClient
{
    public static HttpClient Create(TimeSpan? timeout = null, HttpVersion2? http2 = null) =>
        new(Handler(), disposeHandler: true) { Timeout = timeout ?? TimeSpan.FromSeconds(60) };

    public static SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = static async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Marker for callers who want HTTP/2 prior knowledge (h2c) on an http2 listener.</summary>
    internal sealed class HttpVersion2;
}
