using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Portway.Edge.Tunnels;

/// <summary>
/// The edge's HTTP/2 client for every tunnel. A session's destination address is
/// http://KEY.link.portway.invalid/ (.invalid never resolves, RFC 2606 §2), so SocketsHttpHandler
/// keeps one connection pool per session, and its ConnectCallback returns that session's next link
/// instead of dialing. A tunnel named as a destination of a file cluster is
/// http://NAME.tunnel.portway.invalid/: its pool takes a link from one of the name's online
/// sessions, round robin. One handler serves all tunnel clusters and the TCP tunnels.
/// </summary>
internal sealed class TunnelConnector : IDisposable
{
    public const string LinkHostSuffix = ".link.portway.invalid";
    public const string NameHostSuffix = ".tunnel.portway.invalid";
    private volatile Dictionary<string, TunnelSession[]> _onlineByName = new(StringComparer.Ordinal);
    private uint _nextByName;

    public TunnelConnector()
    {
        Handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = false,
            // Links are long-lived on purpose; idle or lifetime limits would churn them.
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            // HTTP/2 PINGs are the heartbeat of an active link: a link that misses one for 5 s
            // after 5 s of silence is closed, so a dead link is found within 10 s.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            // How much of one response the edge buffers for a slow visitor before the agent must
            // wait (RFC 9113 §5.2); dynamic window sizing may grow it with the link's RTT.
            InitialHttp2StreamWindowSize = 1024 * 1024,
            // Covers waiting for a spare link plus its activation; a plain connect uses its own timeout.
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ConnectCallback = ConnectAsync,
        };
        Invoker = new HttpMessageInvoker(Handler, disposeHandler: false);
    }

    public SocketsHttpHandler Handler { get; }

    /// <summary>For TCP tunnels, which send their duplex streams directly.</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>Live sessions by key; kept by <see cref="TunnelRegistry"/>.</summary>
    public ConcurrentDictionary<string, TunnelSession> Sessions { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static string DestinationAddress(TunnelSession session) => $"http://{session.Key}{LinkHostSuffix}/";

    /// <summary>The address of a tunnel name used as a destination of a file cluster.</summary>
    public static string NameAddress(string name) => $"http://{name}{NameHostSuffix}/";

    public static bool IsNameAddress(Uri? uri) => uri is not null && uri.Host.EndsWith(NameHostSuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether any agent holding this HTTP tunnel name is online now.</summary>
    public bool IsOnline(string name) => _onlineByName.ContainsKey(name);

    /// <summary>Replaces the online sessions by name (the registry calls it whenever a session comes or goes).</summary>
    public void PublishOnline(Dictionary<string, TunnelSession[]> onlineByName) => _onlineByName = onlineByName;

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        if (host.EndsWith(LinkHostSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var key = host[..^LinkHostSuffix.Length];
            if (!Sessions.TryGetValue(key, out var session)) throw new TunnelOfflineException();
            return await session.TakeLinkAsync(cancellationToken);
        }
        if (host.EndsWith(NameHostSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var name = host[..^NameHostSuffix.Length];
            if (!_onlineByName.TryGetValue(name, out var sessions)) throw new TunnelOfflineException();
            var session = sessions[(int)(Interlocked.Increment(ref _nextByName) % (uint)sessions.Length)];
            return await session.TakeLinkAsync(cancellationToken);
        }
        // A cluster that mixes servers and tunnels reaches its servers the ordinary way.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Invoker.Dispose();
        Handler.Dispose();
    }
}
