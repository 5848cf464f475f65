using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Portway.Edge.Tls;

/// <summary>
/// A certificate ready to serve: the leaf with its key, its chain, and the
/// <see cref="SslStreamCertificateContext"/> that sends the chain (and, on Linux, staples OCSP
/// responses: the context fetches them from the leaf's AIA responder and refreshes them in the
/// background). Handshake options are built once per listener shape and reused per connection.
/// </summary>
internal sealed class ServedCertificate
{
    private readonly SslServerAuthenticationOptions?[] _options = new SslServerAuthenticationOptions?[8];

    private ServedCertificate(X509Certificate2 leaf, SslStreamCertificateContext context, string source)
    {
        Leaf = leaf;
        Context = context;
        Source = source;
    }

    public X509Certificate2 Leaf { get; }
    public SslStreamCertificateContext Context { get; }
    /// <summary>Where it came from, for logs: a file path or "acme".</summary>
    public string Source { get; }
    public DateTimeOffset NotBefore => Leaf.NotBefore.ToUniversalTime();
    public DateTimeOffset NotAfter => Leaf.NotAfter.ToUniversalTime();

    public static ServedCertificate Create(X509Certificate2 leaf, X509Certificate2Collection chain, string source)
    {
        // offline: false lets .NET fetch missing intermediates and OCSP responses for stapling.
        var context = SslStreamCertificateContext.Create(leaf, chain, offline: false);
        return new ServedCertificate(leaf, context, source);
    }

    /// <summary>Options for one handshake; cached per (ALPN list, client certificate requested, minimum version).</summary>
    public SslServerAuthenticationOptions Options(HttpProtocols protocols, bool requestClientCertificate, SslProtocols minVersion, CipherSuitesPolicy? ciphers)
    {
        var index = ((int)protocols & 3) | (requestClientCertificate ? 4 : 0);
        var cached = _options[index];
        var enabled = TlsPolicy.Protocols(minVersion);
        if (cached is not null && cached.EnabledSslProtocols == enabled && ReferenceEquals(cached.CipherSuitesPolicy, ciphers)) return cached;
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = Context,
            EnabledSslProtocols = enabled,
            CipherSuitesPolicy = ciphers,
            ApplicationProtocols = TlsPolicy.Alpn(protocols),
            // RFC 9113 §9.2.1: no renegotiation under HTTP/2; none at all avoids the renegotiation DoS.
            AllowRenegotiation = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificateRequired = requestClientCertificate,
        };
        if (requestClientCertificate)
        {
            // Ask for a certificate but accept any (or none) here: each route checks it against its own
            // CA (ClientCertificateMiddleware), so one connection can carry routes with different rules.
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        _options[index] = options;
        return options;
    }
}
