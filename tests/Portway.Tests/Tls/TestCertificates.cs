using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portway.Tests.Tls;

/// <summary>Certificates made by the tests: a CA, leaves it signs (server or client), PEM/PKCS#12 files.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 CreateCa(string name = "Portway Test CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(1));
    }

    /// <summary>A CA signed by <paramref name="root"/> that may sign leaves only (path length 0).</summary>
    public static X509Certificate2 CreateIntermediateCa(X509Certificate2 root, string name = "Portway Test Intermediate CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var rootKey = root.GetECDsaPrivateKey()!;
        using var signed = request.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(60), serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>A leaf signed by <paramref name="ca"/>; RSA or ECDSA; server or client usage.</summary>
    public static X509Certificate2 CreateLeaf(X509Certificate2 ca, string subject, string[] dnsNames, bool rsa = false, bool client = false,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, Uri? ocsp = null)
    {
        AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = rsa
            ? new CertificateRequest($"CN={subject}", (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={subject}", (ECDsa)key, HashAlgorithmName.SHA256);
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var n in dnsNames) san.AddDnsName(n);
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(client ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        var from = notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5);
        var to = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (ocsp is not null) request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocsp.ToString()], null));
        using var caKey = ca.GetECDsaPrivateKey()!;
        using var signed = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), from, to, serial);
        var withKey = rsa ? signed.CopyWithPrivateKey((RSA)key) : signed.CopyWithPrivateKey((ECDsa)key);
        key.Dispose();
        return withKey;
    }

    /// <summary>Writes cert (leaf + CA chain) and key as PEM; returns (certPath, keyPath).</summary>
    public static (string Cert, string Key) WritePem(string dir, string name, X509Certificate2 leaf, X509Certificate2? chain = null)
    {
        var certPath = Path.Combine(dir, name + ".crt");
        var keyPath = Path.Combine(dir, name + ".key");
        var pem = leaf.ExportCertificatePem() + "\n" + (chain is null ? "" : chain.ExportCertificatePem() + "\n");
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)leaf.GetECDsaPrivateKey() ?? leaf.GetRSAPrivateKey()!;
        // Replace through a rename, as certbot and most tools do, so a reader never sees half a file.
        File.WriteAllText(certPath + ".tmp", pem);
        File.WriteAllText(keyPath + ".tmp", key.ExportPkcs8PrivateKeyPem());
        File.Move(keyPath + ".tmp", keyPath, overwrite: true);
        File.Move(certPath + ".tmp", certPath, overwrite: true);
        return (certPath, keyPath);
    }

    public static string WritePkcs12(string dir, string name, X509Certificate2 leaf, string password)
    {
        var path = Path.Combine(dir, name + ".p12");
        File.WriteAllBytes(path, leaf.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    public static string WriteCaPem(string dir, string name, X509Certificate2 ca)
    {
        var path = Path.Combine(dir, name + ".pem");
        File.WriteAllText(path, ca.ExportCertificatePem() + "\n");
        return path;
    }

    public static string WriteKeyPem(string dir, string name, X509Certificate2 withKey)
    {
        var path = Path.Combine(dir, name + ".key");
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)withKey.GetECDsaPrivateKey() ?? withKey.GetRSAPrivateKey()!;
        File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
        return path;
    }

    public static string TempDir() => Directory.CreateTempSubdirectory("portway-tls-").FullName;
}
