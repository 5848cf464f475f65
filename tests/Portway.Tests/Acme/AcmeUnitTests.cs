using System.Buffers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Portway.Edge.Acme;
using Portway.Edge.Tls;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Acme;

public sealed class AcmeUnitTests
{
    [Fact]
    public void Sign_Es256_SignatureVerifiesWithAccountKeyAndHeaderHasKidNonceUrl()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = AcmeJws.Sign(key, "https://ca.test/acct/1", "nonce-1", new Uri("https://ca.test/new-order"), "{\"a\":1}"u8.ToArray());
        using var doc = JsonDocument.Parse(body);
        var p = doc.RootElement.GetProperty("protected").GetString()!;
        var payload = doc.RootElement.GetProperty("payload").GetString()!;
        var signature = System.Buffers.Text.Base64Url.DecodeFromChars(doc.RootElement.GetProperty("signature").GetString()!);
        Assert.Equal(64, signature.Length); // P1363 r||s, RFC 7518 §3.4
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(p + "." + payload), signature, HashAlgorithmName.SHA256));
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(p));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("https://ca.test/acct/1", header.RootElement.GetProperty("kid").GetString());
        Assert.Equal("nonce-1", header.RootElement.GetProperty("nonce").GetString());
        Assert.Equal("https://ca.test/new-order", header.RootElement.GetProperty("url").GetString());
        Assert.False(header.RootElement.TryGetProperty("jwk", out _));
    }

    [Fact]
    public void Thumbprint_IsSha256OfCanonicalJwk()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwk = AcmeJws.Jwk(key);
        Assert.StartsWith("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", jwk); // RFC 7638 §3.2 member order
        Assert.DoesNotContain(" ", jwk);
        Assert.Equal(AcmeJws.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(jwk))), AcmeJws.Thumbprint(key));
        Assert.Equal(43, AcmeJws.Thumbprint(key).Length);
    }

    [Fact]
    public void RenewalPlanner_LifetimeWindowAndBackoff()
    {
        var nb = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(nb.AddDays(60), RenewalPlanner.ByLifetime(nb, nb.AddDays(90), 2.0 / 3.0));
        var now = nb.AddDays(10);
        var window = new AcmeRenewalWindow(nb.AddDays(20), nb.AddDays(22));
        Assert.Equal(nb.AddDays(21), RenewalPlanner.InWindow(window, 0.5, now));
        Assert.Equal(now, RenewalPlanner.InWindow(new AcmeRenewalWindow(nb, nb.AddDays(1)), 0.5, now));
        var min = TimeSpan.FromMinutes(1);
        var max = TimeSpan.FromHours(6);
        Assert.Equal(TimeSpan.FromMinutes(1), RenewalPlanner.Backoff(1, min, max, null));
        Assert.Equal(TimeSpan.FromMinutes(8), RenewalPlanner.Backoff(4, min, max, null));
        Assert.Equal(max, RenewalPlanner.Backoff(40, min, max, null));
        Assert.Equal(TimeSpan.FromHours(1), RenewalPlanner.Backoff(1, min, max, TimeSpan.FromHours(1)));
    }

    [Fact]
    public async Task OffersAcmeTls_RealClientHellos_DetectsOnlyTheAcmeProtocol()
    {
        Assert.True(await ParseClientHelloAsync([new SslApplicationProtocol("acme-tls/1"u8.ToArray())]));
        Assert.False(await ParseClientHelloAsync([SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]));
        Assert.Equal(OperationStatus.NeedMoreData, ClientHelloParser.OffersAcmeTls(new ReadOnlySequence<byte>([22, 3, 1]), out _));
        Assert.Equal(OperationStatus.InvalidData, ClientHelloParser.OffersAcmeTls(new ReadOnlySequence<byte>("GET / HTTP/1.1\r\n"u8.ToArray()), out _));
    }

    private static async Task<bool> ParseClientHelloAsync(List<SslApplicationProtocol> alpn)
    {
        var capture = new CaptureStream();
        await using var ssl = new SslStream(capture);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "a.test", ApplicationProtocols = alpn });
        }
        catch (IOException)
        {
        }
        var bytes = capture.Written.ToArray();
        // Split in two segments to exercise the multi-segment path.
        var first = new Segment(bytes.AsMemory(0, 7));
        var last = first.Append(bytes.AsMemory(7));
        Assert.Equal(OperationStatus.NeedMoreData, ClientHelloParser.OffersAcmeTls(new ReadOnlySequence<byte>(bytes.AsMemory(0, 20)), out _));
        Assert.Equal(OperationStatus.Done, ClientHelloParser.OffersAcmeTls(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), out var offers));
        return offers;
    }

    [Fact]
    public async Task GetRenewalInfo_CaOffersAri_ReturnsWindowForCertificateId()
    {
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.test"]);
        var certId = AcmeClient.CertificateId(leaf)!;
        string? asked = null;
        await using var origin = await TestOrigin.StartAsync("ari", async ctx =>
        {
            if (ctx.Request.Path == "/dir")
            {
                var b = $"http://{ctx.Request.Host}";
                await ctx.Response.WriteAsync($$"""{"newNonce":"{{b}}/nonce","newAccount":"{{b}}/acct","newOrder":"{{b}}/order","renewalInfo":"{{b}}/ari"}""");
                return;
            }
            asked = ctx.Request.Path.Value;
            ctx.Response.Headers.RetryAfter = "21600";
            await ctx.Response.WriteAsync("""{"suggestedWindow":{"start":"2026-02-01T00:00:00Z","end":"2026-02-03T00:00:00Z"}}""");
        });
        using var http = new HttpClient();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = new AcmeClient(http, new Uri(origin.Url, "/dir"), key, NullLogger.Instance);
        var (info, retryAfter) = await client.GetRenewalInfoAsync(leaf, CancellationToken.None);
        Assert.Equal("/ari/" + certId, asked);
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), info!.SuggestedWindow.Start);
        Assert.Equal(TimeSpan.FromHours(6), retryAfter);
        // RFC 9773 §4.1: keyIdentifier and serial, each base64url, joined by a dot.
        Assert.Equal(2, certId.Split('.').Length);
        Assert.DoesNotContain("=", certId);
    }

    private sealed class CaptureStream : Stream
    {
        public MemoryStream Written { get; } = new();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("capture only");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
