using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Portway.Edge.Tls;

namespace Portway.Edge.Acme;

/// <summary>
/// The self-signed certificate a tls-alpn-01 validator must see (RFC 8737 §3): one dNSName, the
/// host, and the critical acmeIdentifier extension holding SHA-256 of the key authorization.
/// </summary>
internal static class TlsAlpnChallengeCertificate
{
    /// <summary>id-pe-acmeIdentifier (RFC 8737 §6.1).</summary>
    private const string AcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

    public static ServedCertificate Create(string host, string keyAuthorization)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(host);
        request.CertificateExtensions.Add(san.Build(critical: false));
        // extnValue is the DER OCTET STRING (tag 4, length 32) wrapping the digest.
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(keyAuthorization));
        var der = new byte[2 + digest.Length];
        der[0] = 0x04;
        der[1] = (byte)digest.Length;
        digest.CopyTo(der, 2);
        request.CertificateExtensions.Add(new X509Extension(new Oid(AcmeIdentifierOid), der, critical: true));
        var now = DateTimeOffset.UtcNow;
        var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));
        return ServedCertificate.Create(cert, [], "tls-alpn-01 challenge");
    }
}
