using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Portway.Edge.Tls;
using Portway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Tls;

public sealed class TlsListenerTests
{
    [Fact]
    [CoversKey("tls.sites[].hosts", "tls.sites[].cert", "tls.sites[].key", "tls.sites[].pkcs12", "tls.sites[].password", "tls.sites[].default")]
    public async Task Handshake_SeveralSites_SniPicksExactWildcardPkcs12AndDefault()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var exact = TestCertificates.CreateLeaf(ca, "exact", ["a.example.test"]);
        using var wild = TestCertificates.CreateLeaf(ca, "wild", ["*.wild.example.test"], rsa: true);
        using var p12 = TestCertificates.CreateLeaf(ca, "p12", ["p12.example.test"], rsa: true);
        using var fallback = TestCertificates.CreateLeaf(ca, "fallback", ["fallback.example.test"]);
        var (exactCert, exactKey) = TestCertificates.WritePem(dir, "exact", exact, ca);
        var (wildCert, wildKey) = TestCertificates.WritePem(dir, "wild", wild);
        var (defCert, defKey) = TestCertificates.WritePem(dir, "default", fallback);
        var p12Path = TestCertificates.WritePkcs12(dir, "p12", p12, "s3cret");
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [a.example.test]
                  cert: {exactCert}
                  key: {exactKey}
                - hosts: ["*.wild.example.test"]
                  cert: {wildCert}
                  key: {wildKey}
                - hosts: [p12.example.test]
                  pkcs12: {p12Path}
                  password: s3cret
                - default: true
                  cert: {defCert}
                  key: {defKey}
            """);
        var url = edge.HttpsUrl();

        Assert.Equal(exact.Thumbprint, (await TlsClient.HandshakeAsync(url, "a.example.test")).Certificate.Thumbprint);
        Assert.Equal(exact.Thumbprint, (await TlsClient.HandshakeAsync(url, "A.Example.Test")).Certificate.Thumbprint);
        Assert.Equal(wild.Thumbprint, (await TlsClient.HandshakeAsync(url, "x.wild.example.test")).Certificate.Thumbprint);
        Assert.Equal(p12.Thumbprint, (await TlsClient.HandshakeAsync(url, "p12.example.test")).Certificate.Thumbprint);
        // RFC 6125: a wildcard covers one label only, so these fall through to the default.
        Assert.Equal(fallback.Thumbprint, (await TlsClient.HandshakeAsync(url, "b.x.wild.example.test")).Certificate.Thumbprint);
        Assert.Equal(fallback.Thumbprint, (await TlsClient.HandshakeAsync(url, "wild.example.test")).Certificate.Thumbprint);
        Assert.Equal(fallback.Thumbprint, (await TlsClient.HandshakeAsync(url, "unknown.test")).Certificate.Thumbprint);
    }

    [Fact]
    public async Task Handshake_NoMatchAndNoDefault_Refused()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [a.example.test]
                  cert: {cert}
                  key: {key}
            """);
        Assert.Equal(leaf.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test")).Certificate.Thumbprint);
        // No certificate to present: the edge's certificate callback refuses and Kestrel closes the
        // connection mid-handshake, so the client reads end of stream where the ServerHello should be.
        var refused = await Assert.ThrowsAsync<IOException>(() => TlsClient.HandshakeAsync(edge.HttpsUrl(), "other.test"));
        Assert.Contains("unexpected EOF", refused.Message);
    }

    [Fact]
    public async Task Request_Http2Client_NegotiatesH2OverAlpn()
    {
        await using var origin = await TestOrigin.StartAsync("o", ctx => ctx.Response.WriteAsync(ctx.Request.Headers["X-Forwarded-Proto"].ToString()));
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [a.example.test]
                  cert: {cert}
                  key: {key}
            routes:
              - cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        var handshake = await TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test", alpn: [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]);
        Assert.Equal(SslApplicationProtocol.Http2, handshake.Alpn);

        using var client = TlsClient.Create(edge.HttpsUrl().Port, ca);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://a.example.test:{edge.HttpsUrl().Port}/")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("https", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Handshake_CertificateFileReplaced_NewConnectionsGetNewCertificate()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var first = TestCertificates.CreateLeaf(ca, "first", ["a.example.test"]);
        using var second = TestCertificates.CreateLeaf(ca, "second", ["a.example.test"], rsa: true);
        var (cert, key) = TestCertificates.WritePem(dir, "site", first);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [a.example.test]
                  cert: {cert}
                  key: {key}
            """);
        Assert.Equal(first.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test")).Certificate.Thumbprint);

        TestCertificates.WritePem(dir, "site", second);

        await Wait.UntilAsync(async () =>
            (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test")).Certificate.Thumbprint == second.Thumbprint,
            because: "the replaced certificate file should be served to new connections");
    }

    [Fact]
    public async Task Load_MismatchedKeyExpiredAndMissingFile_ReportedWithHostAndFileOthersServed()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var good = TestCertificates.CreateLeaf(ca, "good", ["good.example.test"]);
        using var a = TestCertificates.CreateLeaf(ca, "a", ["mismatch.example.test"]);
        using var b = TestCertificates.CreateLeaf(ca, "b", ["other.example.test"]);
        using var expired = TestCertificates.CreateLeaf(ca, "old", ["expired.example.test"],
            notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        var (goodCert, goodKey) = TestCertificates.WritePem(dir, "good", good);
        var (aCert, _) = TestCertificates.WritePem(dir, "a", a);
        var (_, bKey) = TestCertificates.WritePem(dir, "b", b);
        var (oldCert, oldKey) = TestCertificates.WritePem(dir, "old", expired);
        var missing = Path.Combine(dir, "nope.crt");
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [good.example.test]
                  cert: {goodCert}
                  key: {goodKey}
                - hosts: [mismatch.example.test]
                  cert: {aCert}
                  key: {bKey}
                - hosts: [expired.example.test]
                  cert: {oldCert}
                  key: {oldKey}
                - hosts: [missing.example.test]
                  cert: {missing}
                  key: {goodKey}
            """);
        var problems = edge.Host.Services.GetRequiredService<TlsManager>().Problems.Values.ToList();
        Assert.Contains(problems, p => p.Contains("mismatch.example.test") && p.Contains(bKey) && p.Contains("does not belong"));
        Assert.Contains(problems, p => p.Contains("expired.example.test") && p.Contains(oldCert) && p.Contains("expired"));
        Assert.Contains(problems, p => p.Contains("missing.example.test") && p.Contains(missing) && p.Contains("cannot read"));
        Assert.Equal(good.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "good.example.test")).Certificate.Thumbprint);
    }

    [Fact]
    [CoversKey("tls.sites[].redirect", "tls.sites[].hsts", "tls.sites[].hsts_include_subdomains")]
    public async Task Request_PlainHttpToSiteWithCertificate_308ToHttpsExceptAcmePathAndHstsOnHttps()
    {
        await using var origin = await TestOrigin.StartAsync("o");
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test", "b.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [a.example.test]
                  cert: {cert}
                  key: {key}
                  hsts: 180d
                  hsts_include_subdomains: true
                - hosts: [b.example.test]
                  cert: {cert}
                  key: {key}
                  redirect: false
            routes:
              - cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        var port = edge.HttpsUrl().Port;
        using var redirect = new HttpRequestMessage(HttpMethod.Post, "/path/x?q=1") { Headers = { Host = "a.example.test" } };
        using var r1 = await edge.Client.SendAsync(redirect);
        Assert.Equal(HttpStatusCode.PermanentRedirect, r1.StatusCode);
        Assert.Equal($"https://a.example.test:{port}/path/x?q=1", r1.Headers.Location!.ToString());
        Assert.False(r1.Headers.Contains("Strict-Transport-Security"), "RFC 6797 §7.2: no HSTS over plain HTTP");

        using var challenge = new HttpRequestMessage(HttpMethod.Get, "/.well-known/acme-challenge/unknown") { Headers = { Host = "a.example.test" } };
        using var r2 = await edge.Client.SendAsync(challenge);
        Assert.NotEqual(HttpStatusCode.PermanentRedirect, r2.StatusCode);

        using var noRedirect = new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { Host = "b.example.test" } };
        using var r3 = await edge.Client.SendAsync(noRedirect);
        Assert.Equal(HttpStatusCode.OK, r3.StatusCode);

        using var unknown = new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { Host = "c.example.test" } };
        using var r4 = await edge.Client.SendAsync(unknown);
        Assert.Equal(HttpStatusCode.OK, r4.StatusCode);

        using var https = TlsClient.Create(port, ca);
        using var r5 = await https.GetAsync($"https://a.example.test:{port}/");
        Assert.Equal(HttpStatusCode.OK, r5.StatusCode);
        Assert.Equal("max-age=15552000; includeSubDomains", string.Join(",", r5.Headers.GetValues("Strict-Transport-Security")));
        using var r6 = await https.GetAsync($"https://b.example.test:{port}/");
        Assert.False(r6.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Reload_SiteAddedToConfig_ServedWithoutRestart()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var a = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"]);
        using var b = TestCertificates.CreateLeaf(ca, "b", ["b.example.test"]);
        var (aCert, aKey) = TestCertificates.WritePem(dir, "a", a);
        var (bCert, bKey) = TestCertificates.WritePem(dir, "b", b);
        var first = $"""
            tls:
              sites:
                - hosts: [a.example.test]
                  cert: {aCert}
                  key: {aKey}
                  default: true
            """;
        await using var edge = await TlsEdge.StartAsync(first);
        Assert.Equal(a.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "b.example.test")).Certificate.Thumbprint);

        await edge.RewriteAsync(TlsEdge.Listeners.Replace("127.0.0.1:0", $"127.0.0.1:{edge.Url.Port}", StringComparison.Ordinal)
            .Replace("https://127.0.0.1:" + edge.Url.Port, "https://127.0.0.1:" + edge.HttpsUrl().Port, StringComparison.Ordinal) + first + $"""

                - hosts: [b.example.test]
                  cert: {bCert}
                  key: {bKey}
            """);

        await Wait.UntilAsync(async () =>
            (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "b.example.test")).Certificate.Thumbprint == b.Thumbprint,
            because: "a site added by a config reload should be served to new connections");
    }
}
