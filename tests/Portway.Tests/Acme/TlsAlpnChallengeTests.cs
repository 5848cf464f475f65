using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Portway.Edge.Acme;
using Portway.Edge.Tls;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Acme;

public sealed class TlsAlpnChallengeTests
{
    [Fact]
    public async Task Handshake_ChallengePending_OnlyAcmeTlsClientGetsChallengeCertificate()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var fallback = TestCertificates.CreateLeaf(ca, "fallback", ["fallback.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "default", fallback);
        await using var edge = await TlsEdge.StartWithDefaultAsync(cert, key);
        var challenges = edge.Host.Services.GetRequiredService<AcmeChallengeStore>();
        challenges.AddTlsAlpn01("new.example.test", TlsAlpnChallengeCertificate.Create("new.example.test", "token.thumbprint"));

        var visitor = await TlsClient.HandshakeAsync(edge.HttpsUrl(), "new.example.test", alpn: [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]);
        Assert.Equal(fallback.Thumbprint, visitor.Certificate.Thumbprint);

        var validator = await TlsClient.HandshakeAsync(edge.HttpsUrl(), "new.example.test", alpn: [new SslApplicationProtocol("acme-tls/1"u8.ToArray())]);
        Assert.Equal("acme-tls/1", validator.Alpn.ToString());
        // RFC 8737 §3: a critical id-pe-acmeIdentifier holding SHA-256 of the key authorization.
        var extension = validator.Certificate.Extensions["1.3.6.1.5.5.7.1.31"]!;
        Assert.True(extension.Critical);
        Assert.Equal([0x04, 0x20, .. SHA256.HashData(Encoding.UTF8.GetBytes("token.thumbprint"))], extension.RawData);
        Assert.True(validator.Certificate.MatchesHostname("new.example.test"));

        challenges.RemoveTlsAlpn01("new.example.test");
        // With no challenge pending, acme-tls/1 is not a protocol the edge speaks: the handshake gets
        // the no_application_protocol alert (RFC 7301 §3.2), never the fallback certificate.
        var refused = await Assert.ThrowsAsync<AuthenticationException>(() =>
            TlsClient.HandshakeAsync(edge.HttpsUrl(), "new.example.test", alpn: [new SslApplicationProtocol("acme-tls/1"u8.ToArray())]));
        Assert.Contains("no application protocol", refused.GetBaseException().Message);
    }
}
