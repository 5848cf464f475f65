using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portway.Edge.Tls;

/// <summary>
/// Loads certificates from PEM or PKCS#12 files and checks what makes them unservable: an
/// unreadable file, no certificate in it, a key that belongs to another certificate, expiry.
/// </summary>
internal static class CertificateFiles
{
    public static ServedCertificate LoadPem(string certFile, string keyFile, DateTimeOffset now, string source) =>
        FromPem(Read(certFile), Read(keyFile), now, source, certFile, keyFile);

    /// <summary>From PEM text; <paramref name="certFile"/> and <paramref name="keyFile"/> name the origin in errors.</summary>
    public static ServedCertificate FromPem(string certText, string keyText, DateTimeOffset now, string source, string certFile, string keyFile)
    {
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certText);
        }
        catch (CryptographicException e)
        {
            throw new CertificateLoadException($"{certFile}: not a valid PEM certificate ({e.Message})", e);
        }
        if (all.Count == 0) throw new CertificateLoadException($"{certFile}: no '-----BEGIN CERTIFICATE-----' block found; give the certificate (full chain) in PEM");
        X509Certificate2 leaf;
        try
        {
            leaf = CombineWithKey(all[0], keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            var what = e is ArgumentException
                ? $"the key in {keyFile} does not belong to the certificate in {certFile}; give the key that was generated with this certificate"
                : $"{keyFile}: not a usable PEM private key (RSA or ECDSA, unencrypted): {e.Message}";
            throw new CertificateLoadException(what, e);
        }
        var chain = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++) chain.Add(all[i]);
        return ServedCertificate.Create(Check(leaf, certFile, now), chain, source);
    }

    public static ServedCertificate LoadPkcs12(string file, string? password, DateTimeOffset now, string source)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CertificateLoadException($"{file}: cannot read the file: {e.Message}", e);
        }
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12Collection(bytes, password, X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException e)
        {
            throw new CertificateLoadException($"{file}: not a PKCS#12 file, or the password is wrong ({e.Message})", e);
        }
        X509Certificate2? leaf = null;
        var chain = new X509Certificate2Collection();
        foreach (var c in all)
        {
            if (leaf is null && c.HasPrivateKey) leaf = c;
            else chain.Add(c);
        }
        if (leaf is null) throw new CertificateLoadException($"{file}: holds no certificate with its private key");
        return ServedCertificate.Create(Check(leaf, file, now), chain, source);
    }

    private static string Read(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CertificateLoadException($"{file}: cannot read the file: {e.Message}", e);
        }
    }

    private static X509Certificate2 CombineWithKey(X509Certificate2 cert, string keyPem)
    {
        // CopyWithPrivateKey throws ArgumentException when the key's public half differs from the certificate's.
        X509Certificate2 combined;
        if (cert.GetECDsaPublicKey() is not null)
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(keyPem);
            combined = cert.CopyWithPrivateKey(ec);
        }
        else if (cert.GetRSAPublicKey() is not null)
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(keyPem);
            combined = cert.CopyWithPrivateKey(rsa);
        }
        else throw new CryptographicException("only RSA and ECDSA certificates are supported");
        // Schannel (Windows) cannot use ephemeral keys; a PKCS#12 round trip gives it a persisted one.
        if (OperatingSystem.IsWindows())
        {
            using (combined)
                return X509CertificateLoader.LoadPkcs12(combined.Export(X509ContentType.Pkcs12), null);
        }
        return combined;
    }

    private static X509Certificate2 Check(X509Certificate2 leaf, string file, DateTimeOffset now)
    {
        if (leaf.NotAfter.ToUniversalTime() <= now.UtcDateTime)
            throw new CertificateLoadException($"{file}: the certificate for '{leaf.GetNameInfo(X509NameType.DnsName, false)}' expired on {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; renew it or use certificate: auto");
        if (leaf.NotBefore.ToUniversalTime() > now.UtcDateTime + TimeSpan.FromMinutes(5))
            throw new CertificateLoadException($"{file}: the certificate is not valid before {leaf.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; check the clock");
        return leaf;
    }
}
