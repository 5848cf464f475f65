namespace Portway.Protocol;

/// <summary>
/// The tunnel link's wire constants, in the order they are used (docs/protocol.md has the table).
/// The whole control protocol is the HTTP/1.1 upgrade below (or, on an HTTP/2-only listener, an
/// extended CONNECT with the same token as <c>:protocol</c>, RFC 8441) plus two standby bytes; everything
/// after activation is plain HTTP/2 (RFC 9113) with the edge as client and the agent as server.
/// </summary>
internal static class LinkProtocol
{
    /// <summary>The agent dials this path on the edge's normal HTTP(S) port, so links pass firewalls that only allow 443.</summary>
    public const string Path = "/_portway/link";

    /// <summary>
    /// HTTP/1.1 upgrade token (RFC 9110 §7.8), and the <c>:protocol</c> of the HTTP/2 extended CONNECT. A raw upgrade, not WebSocket: the prototype measured
    /// WebSocket framing at ≈7% of tunnel throughput, and after the 101 nothing but HTTP/2 frames flow.
    /// </summary>
    public const string UpgradeToken = "portway-link/1";

    /// <summary>Request: a random 128-bit hex id the agent keeps for its lifetime; links with the same id (and token) form one session.</summary>
    public const string AgentHeader = "Portway-Agent";

    /// <summary>Request, one per tunnel: <see cref="TunnelRequest"/>, e.g. <c>http; id=web; name=blog</c>.</summary>
    public const string TunnelHeader = "Portway-Tunnel";

    /// <summary>101 response: the edge's id for the session (for logs; not a secret).</summary>
    public const string SessionHeader = "Portway-Session";

    /// <summary>101 response, one per tunnel: <see cref="TunnelGrant"/>, e.g. <c>web; name=blog; url=https://blog.example.com</c>.</summary>
    public const string GrantHeader = "Portway-Grant";

    /// <summary>Refusals (4xx): a stable code (<see cref="LinkErrorCodes"/>); the plain-text body says what to do.</summary>
    public const string ErrorHeader = "Portway-Error";

    /// <summary>
    /// Standby, edge → agent: "are you there?"; the agent answers <see cref="Ping"/>. A spare link
    /// that misses its answer is closed, so a dead agent never leaves a dead spare in the queue.
    /// </summary>
    public const byte Ping = 0x00;

    /// <summary>
    /// Standby, edge → agent: "this link now carries HTTP/2". The agent answers <see cref="Activate"/>
    /// and hands the stream to its HTTP/2 server; every byte after that is HTTP/2, preface first.
    /// </summary>
    public const byte Activate = 0x01;

    /// <summary>How often the edge pings an idle spare link; a missed answer within the same time closes it (dead link found within 10 s).</summary>
    public static readonly TimeSpan StandbyPingInterval = TimeSpan.FromSeconds(5);

    /// <summary>The agent closes a spare that heard nothing for this long (three missed pings).</summary>
    public static readonly TimeSpan StandbySilenceLimit = TimeSpan.FromSeconds(15);

    /// <summary>HTTP/2 request headers the edge sets on every stream it opens to the agent (lower case per RFC 9113 §8.2.1).</summary>
    public const string StreamTunnelHeader = "portway-tunnel";

    /// <summary>The visitor's address as the edge saw it, for the agent's CIDR rules and logs.</summary>
    public const string StreamClientIpHeader = "portway-client-ip";

    /// <summary>Present with value <c>tcp</c> on streams that carry one TCP connection (a duplex POST).</summary>
    public const string StreamKindHeader = "portway-stream";

    public const string StreamKindTcp = "tcp";

    /// <summary>
    /// <c>portway-stream: grants</c>: an edge → agent request carrying updated Portway-Grant headers
    /// (a certificate arrived, an order failed). Only the edge can send it: it replaces every
    /// portway-* header a visitor sends.
    /// </summary>
    public const string StreamKindGrants = "grants";

    public const string GrantsPath = "/_portway/grants";

    /// <summary>The path of TCP streams; only meaningful together with <see cref="StreamKindHeader"/>.</summary>
    public const string TcpStreamPath = "/_portway/tcp";
}
