namespace Portway.Agent;

/// <summary>How the agent opens its links (`--link`, docs/tunnels.md).</summary>
internal enum LinkTransport
{
    /// <summary>HTTP/1.1 Upgrade first; when the listener turns out to speak only HTTP/2, extended CONNECT (remembered for later dials).</summary>
    Auto,

    /// <summary>Only the HTTP/1.1 Upgrade (RFC 9110 §7.8).</summary>
    Http1,

    /// <summary>Only HTTP/2 extended CONNECT (RFC 8441): h2c prior knowledge on http://, ALPN h2 on https://.</summary>
    Http2,
}
