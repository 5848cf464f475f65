using System.Security.Cryptography.X509Certificates;
using Portway.Configuration;
using Portway.Security;

namespace Portway.Edge.Tls;

/// <summary>
/// TLS to a cluster's https:// destinations: a custom CA instead of the system roots, a client
/// certificate (mTLS to the servers), or, for labs, no validation. The settings travel to the
/// client factory in one YARP metadata value, so a change makes YARP build a new client.
/// The SNI override is the destination's Host (ProxyConfigMapper): .NET sends the request's host
/// as SNI and validates against it, so server_name also becomes the Host header.
/// </summary>
internal static class UpstreamTls
{
    public const string MetadataKey = "Portway.UpstreamTls";

    public static void AddMetadata(Dictionary<string, string> metadata, UpstreamTlsConfig? tls)
    {
        if (tls is null) return;
        metadata[MetadataKey] = string.Join('\n', tls.CaFile ?? "", tls.ClientCertFile ?? "", tls.ClientKeyFile ?? "", tls.Insecure ? "insecure" : "");
    }

    /// <summary>Applies the cluster's settings to its handler. Files that cannot be loaded make every request fail (502) with the reason logged at config load.</summary>
    public static void Configure(SocketsHttpHandler handler, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || !metadata.TryGetValue(MetadataKey, out var value)) return;
        var parts = value.Split('\n');
        string ca = parts[0], cert = parts[1], key = parts[2];
        var insecure = parts[3] == "insecure";
        if (insecure)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (ca.Length > 0)
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPemFile(ca);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                roots.Clear();
            }
            handler.SslOptions.RemoteCertificateValidationCallback = CustomRootTrust.Callback(roots);
        }
        if (cert.Length > 0)
        {
            try
            {
                var loaded = CertificateFiles.LoadPem(cert, key, DateTimeOffset.UtcNow, cert);
                handler.SslOptions.ClientCertificates = [loaded.Leaf];
            }
            catch (CertificateLoadException)
            {
                // Reported by TlsManager.CheckUpstreams at config load; the server will refuse the handshake.
            }
        }
    }

    /// <summary>Problems with a cluster's TLS files, for the log at config load (null when none).</summary>
    public static string? Check(string clusterId, UpstreamTlsConfig tls, DateTimeOffset now)
    {
        try
        {
            if (tls.CaFile is { } ca)
            {
                var roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(ca);
                if (roots.Count == 0) return $"cluster '{clusterId}': {ca}: no certificate in the CA file; requests to its https destinations will fail";
            }
            if (tls.ClientCertFile is { } cert) CertificateFiles.LoadPem(cert, tls.ClientKeyFile!, now, cert);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or CertificateLoadException)
        {
            return $"cluster '{clusterId}': {e.Message}; requests to its https destinations will fail until it is fixed";
        }
    }
}
