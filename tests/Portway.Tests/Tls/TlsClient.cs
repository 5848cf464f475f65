using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Portway.Tests.Tls;

/// <summary>Real TLS clients for the tests: raw handshakes and an HttpClient that sends any SNI to a loopback port.</summary>
internal static class TlsClient
{
    /// <summary>Handshakes with <paramref name="serverName"/> as SNI and returns what the server presented.</summary>
    public static async Task<(X509Certificate2 Certificate, SslApplicationProtocol Alpn, SslProtocols Protocol)> HandshakeAsync(
        Uri httpsUrl, string serverName, SslProtocols protocols = SslProtocols.None, List<SslApplicationProtocol>? alpn = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, httpsUrl.Port);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            EnabledSslProtocols = protocols,
            ApplicationProtocols = alpn ?? [SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        var cert = new X509Certificate2(ssl.RemoteCertificate!);
        return (cert, ssl.NegotiatedApplicationProtocol, ssl.SslProtocol);
    }

    /// <summary>An HttpClient that connects every name to 127.0.0.1:port and trusts <paramref name="ca"/>.</summary>
    public static HttpClient Create(int port, X509Certificate2? ca, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, sent, errors) =>
        {
            if (ca is null || cert is null) return false;
            using var chain = new X509Chain();
            if (sent is not null)
            {
                foreach (var element in sent.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && chain.Build(new X509Certificate2(cert));
        };
        if (clientCertificate is not null) handler.SslOptions.ClientCertificates = [clientCertificate];
        return new HttpClient(handler);
    }
}
