using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Portway.Protocol;
using Xunit;

namespace Portway.Tests.Tls;

public sealed class LinkTlsTests
{
    private static async Task HandshakeAsync(Uri url, SslClientAuthenticationOptions options)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, url.Port);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(options);
    }

    [Fact]
    public async Task ClientOptions_CustomCaInsecureAndDefault_ValidateAsDocumented()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa("Private edge CA");
        using var leaf = TestCertificates.CreateLeaf(ca, "edge", ["edge.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "edge", leaf);
        var caFile = TestCertificates.WriteCaPem(dir, "ca", ca);
        await using var edge = await TlsEdge.StartWithDefaultAsync(cert, key);
        var url = edge.HttpsUrl();

        await HandshakeAsync(url, LinkTls.ClientOptions("edge.example.test", caFile));
        await HandshakeAsync(url, LinkTls.ClientOptions("other.example.test", insecure: true));
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(url, LinkTls.ClientOptions("edge.example.test")));
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(url, LinkTls.ClientOptions("other.example.test", caFile)));
        Assert.Throws<LinkTlsException>(() => LinkTls.ClientOptions("edge.example.test", Path.Combine(dir, "missing.pem")));
    }
}
