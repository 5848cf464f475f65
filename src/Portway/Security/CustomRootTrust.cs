using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Portway.Security;

/// <summary>
/// Validates a TLS server's certificate chain against roots from a file instead of the system's:
/// the edge's connections to a cluster's https destinations (Edge/Tls/UpstreamTls) and the agent's
/// link to the edge (Protocol/LinkTls) both check their peer here, so a fix reaches both.
/// Base class library only: Security/ sits below Edge/, Agent/ and Protocol/, which all may use it.
/// </summary>
internal static class CustomRootTrust
{
    /// <summary>A callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/> that trusts only <paramref name="roots"/>.</summary>
    public static RemoteCertificateValidationCallback Callback(X509Certificate2Collection roots) =>
        (_, certificate, sent, errors) => Validate(roots, certificate, sent, errors);

    /// <summary>
    /// True when <paramref name="certificate"/> chains to one of <paramref name="roots"/>, helped by
    /// the intermediates the server sent, and the platform found no name problem. An empty
    /// <paramref name="roots"/> (a CA file that could not be read) trusts nothing.
    /// </summary>
    public static bool Validate(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? sent, SslPolicyErrors errors)
    {
        // The name must still match (SNI / server_name / the destination's host); only the trust
        // anchor changes, so the chain errors the system roots reported are the ones redone here.
        if (certificate is null || roots.Count == 0 || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        // A private CA rarely publishes OCSP or CRLs; with the system roots neither caller checks
        // revocation either (SslClientAuthenticationOptions' default, which LinkTls states).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (sent is not null)
        {
            foreach (var element in sent.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
