using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Portway.Edge.Tls;

/// <summary>
/// Protocol versions, cipher suites and ALPN lists offered on https listeners. The optional cipher
/// list (tls.ciphers: mozilla_intermediate) is Mozilla's Server Side TLS "intermediate" profile
/// (v5.7, https://ssl-config.mozilla.org/) without its DHE suites: every client that speaks TLS 1.2
/// with AEAD ciphers also speaks ECDHE, and finite-field DHE costs several times more CPU per
/// handshake. It is not the default because .NET on Linux only caches the OpenSSL context (and
/// session resumption) when no cipher policy is set: bench/tls.sh measured about twice the CPU per
/// handshake with one (docs/tls.md).
/// </summary>
internal static class TlsPolicy
{
    /// <summary>RFC 8996 deprecates TLS 1.0 and 1.1; 1.2 is the floor (1.3 when min_version: "1.3").</summary>
    public static SslProtocols Protocols(SslProtocols minVersion) =>
        minVersion == SslProtocols.Tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13;

    private static readonly TlsCipherSuite[] Suites =
    [
        // TLS 1.3 (RFC 8446 §9.1 mandatory AES-128-GCM first, as Mozilla orders them).
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        // TLS 1.2, forward secret AEAD only.
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>
    /// The suite policy where the platform lets us set one (OpenSSL on Linux, and macOS); null
    /// elsewhere, where the OS's own (Schannel) defaults apply.
    /// </summary>
    public static readonly CipherSuitesPolicy? CipherSuites = CreatePolicy();

    private static CipherSuitesPolicy? CreatePolicy()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return null;
        try
        {
            return new CipherSuitesPolicy(Suites);
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    public static readonly List<SslApplicationProtocol> AlpnHttp1 = [SslApplicationProtocol.Http11];
    public static readonly List<SslApplicationProtocol> AlpnHttp2 = [SslApplicationProtocol.Http2];
    /// <summary>h2 first: a client offering both gets HTTP/2 (RFC 7301 leaves the choice to the server).</summary>
    public static readonly List<SslApplicationProtocol> AlpnBoth = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    /// <summary>RFC 8737 §6.2: the ALPN protocol id of the tls-alpn-01 challenge.</summary>
    public static readonly SslApplicationProtocol AcmeTls1 = new("acme-tls/1"u8.ToArray());
    public static readonly List<SslApplicationProtocol> AlpnAcme = [AcmeTls1];

    public static List<SslApplicationProtocol> Alpn(HttpProtocols protocols) => protocols switch
    {
        HttpProtocols.Http2 => AlpnHttp2,
        HttpProtocols.Http1 => AlpnHttp1,
        _ => AlpnBoth,
    };
}
