using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portway.Security;

namespace Portway.Protocol;

/// <summary>
/// TLS options for the agent's link to the edge (base class library and Security/ only, so Agent/
/// can use it without referencing Edge/). The edge's certificate is checked against the system
/// roots, or against a given CA file (a private CA, a lab; <see cref="CustomRootTrust"/>, the same
/// check the edge makes of its https destinations); the name must match either way. Skipping the
/// check is a separate, explicit switch the caller must warn about (--insecure).
/// </summary>
internal static class LinkTls
{
    /// <summary>Options for <see cref="SslStream.AuthenticateAsClientAsync(SslClientAuthenticationOptions, CancellationToken)"/>.</summary>
    /// <param name="targetHost">The edge's host name: sent as SNI and checked in its certificate.</param>
    /// <param name="caFile">PEM file of roots to trust instead of the system's; null for the system roots.</param>
    /// <param name="insecure">Accept any certificate. Only for tests and labs; say so loudly.</param>
    /// <exception cref="LinkTlsException">The CA file cannot be read or holds no certificate.</exception>
    public static SslClientAuthenticationOptions ClientOptions(string targetHost, string? caFile = null, bool insecure = false)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            // RFC 8996: no TLS 1.0/1.1.
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // The link starts as an HTTP/1.1 upgrade.
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        };
        if (insecure)
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
            return options;
        }
        if (caFile is null) return options;
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new LinkTlsException($"{caFile}: cannot read the CA file: {e.Message}", e);
        }
        if (roots.Count == 0) throw new LinkTlsException($"{caFile}: no '-----BEGIN CERTIFICATE-----' block found; give the CA certificate in PEM", null);
        options.RemoteCertificateValidationCallback = CustomRootTrust.Callback(roots);
        return options;
    }
}
