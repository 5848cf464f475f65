using System.Net;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// samples/full.yaml as written, with only what a test machine must change: loopback port-0
/// listeners, test origins for the 10.0.0.x servers, certificate files made here, a CA directory
/// and storage of the test's own. The key-by-key tests show each key; this one shows the keys
/// together (a route timeout once turned every request on its route into a 500).
/// </summary>
public sealed class FullSampleTests
{
    [Fact]
    public async Task FullSample_RequestsOnEveryRoute_AnsweredAsTheCommentsSay()
    {
        await using var a = await Probe.StartEchoAsync("a");
        await using var b = await Probe.StartEchoAsync("b");
        await using var web = await Probe.StartEchoAsync("web");
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa("Sample CA");
        using var clientsCa = TestCertificates.CreateCa("Sample clients CA");
        using var visitor = TestCertificates.CreateLeaf(clientsCa, "visitor", [], client: true);
        using var edgeClient = TestCertificates.CreateLeaf(ca, "edge", [], client: true);
        using var apps = TestCertificates.CreateLeaf(ca, "apps", ["*.apps.example.com"]);
        using var legacy = TestCertificates.CreateLeaf(ca, "legacy", ["legacy.example.com"], rsa: true);
        using var fallback = TestCertificates.CreateLeaf(ca, "default", ["api.example.com"]);
        var (edgeCert, edgeKey) = TestCertificates.WritePem(dir, "edge-client", edgeClient);
        var (appsCert, appsKey) = TestCertificates.WritePem(dir, "apps", apps);
        var (defaultCert, defaultKey) = TestCertificates.WritePem(dir, "default", fallback);
        var log = Path.Combine(dir, "access.log");

        var yaml = Substitute(File.ReadAllText(Path.Combine(ValidationGoldenTests.FindRepoRoot(), "samples", "full.yaml")), new()
        {
            ["url: http://0.0.0.0:8080"] = "url: http://127.0.0.1:0",
            ["url: http://127.0.0.1:8081"] = "url: http://127.0.0.1:0",
            ["url: https://0.0.0.0:8443"] = "url: https://127.0.0.1:0",
            ["url: http://127.0.0.1:9090"] = "url: http://127.0.0.1:0",
            ["http://10.0.0.11:8000"] = a.Url.ToString(),
            ["http://10.0.0.12:8000"] = b.Url.ToString(),
            ["http://10.0.0.21:8080"] = web.Url.ToString(),
            ["/etc/portway/internal-ca.pem"] = TestCertificates.WriteCaPem(dir, "internal-ca", ca),
            ["/etc/portway/edge-client.crt"] = edgeCert,
            ["/etc/portway/edge-client.key"] = edgeKey,
            ["/etc/portway/apps.fullchain.pem"] = appsCert,
            ["/etc/portway/apps.key.pem"] = appsKey,
            ["/etc/portway/legacy.p12"] = TestCertificates.WritePkcs12(dir, "legacy", legacy, "changeit"),
            ["/etc/portway/default.pem"] = defaultCert,
            ["/etc/portway/default.key"] = defaultKey,
            ["/etc/portway/clients-ca.pem"] = TestCertificates.WriteCaPem(dir, "clients-ca", clientsCa),
            // No Let's Encrypt from a test: a CA address where nothing answers (orders fail, are logged, and retried).
            ["directory: letsencrypt "] = $"directory: https://127.0.0.1:{Cluster.DeadPort()}/directory ",
            ["/var/lib/portway/acme"] = Path.Combine(dir, "acme"),
            ["target: stdout"] = $"target: {log}",
            ["/var/cache/portway"] = Path.Combine(dir, "cache"),
        });
        await using var edge = await TestEdge.StartAsync(yaml);
        var https = new Uri(edge.Host.Addresses.First(x => x.Url.StartsWith("https://", StringComparison.Ordinal)).Url);
        var grpc = new Uri(edge.Host.Addresses.First(x => x.Purpose.Contains("'grpc'", StringComparison.Ordinal)).Url);

        // Route 'api': host, prefix, method, header, query all hold; client certificate required (tls.client_auth).
        using var visitorClient = TlsClient.Create(https.Port, ca, visitor);
        var origins = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            using var request = Probe.Request($"GET https://api.example.com:{https.Port}/v1/items?version=2 X-Canary=true X-User=alice");
            using var response = await visitorClient.SendAsync(request);
            var seen = await Probe.SeenAsync(response);
            Assert.Equal("/items", seen.Path);                                  // path_remove_prefix /v1
            Assert.Equal("portway", seen.Header("X-Edge"));                     // request_header_set
            Assert.Equal("CN=visitor", seen.Header("X-Client-Cert-Subject"));   // client_auth header
            Assert.Equal("https", seen.Header("X-Forwarded-Proto"));
            Assert.True(seen.Header("X-Request-Id") is not null, "request id sent; origin saw: " + string.Join(", ", seen.Headers.Keys));
            origins.Add(Cluster.OriginOf(response));
        }
        Assert.Single(origins); // consistent_hash on X-User

        // Without the canary header no route matches that host.
        using var noCanary = await visitorClient.SendAsync(Probe.Request($"GET https://api.example.com:{https.Port}/v1/items?version=2"));
        Assert.Equal(HttpStatusCode.NotFound, noCanary.StatusCode);
        // Without a client certificate route 'api' refuses.
        using var anonymous = TlsClient.Create(https.Port, ca);
        using var refused = await anonymous.SendAsync(Probe.Request($"GET https://api.example.com:{https.Port}/v1/items?version=2 X-Canary=true"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // Route 'site': www.example.com to cluster 'web', whose tunnel destination is offline, so the server takes it,
        // on the public listener and on the h2c one.
        using var site = await Probe.SendAsync(edge.Client, "GET /page Host=www.example.com");
        Assert.Equal("web", Cluster.OriginOf(site));
        Assert.Equal("nosniff", site.Headers.GetValues("X-Content-Type-Options").Single()); // the global security_headers rule
        using var moved = await Probe.SendAsync(edge.Client, "GET /old/page?x=1 Host=www.example.com");  // the route's redirect rule
        Assert.Equal(HttpStatusCode.PermanentRedirect, moved.StatusCode);
        Assert.Equal("/new/page?x=1", moved.Headers.Location?.ToString());
        using var h2c = new HttpClient();
        using var overH2c = await h2c.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(grpc, "/page"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Headers = { Host = "www.example.com" },
        });
        Assert.Equal("web", Cluster.OriginOf(overH2c));

        // Certificates per SNI: the wildcard PEM site, the PKCS#12 site and the default.
        Assert.Equal(apps.Thumbprint, (await TlsClient.HandshakeAsync(https, "x.apps.example.com")).Certificate.Thumbprint);
        Assert.Equal(legacy.Thumbprint, (await TlsClient.HandshakeAsync(https, "legacy.example.com")).Certificate.Thumbprint);
        Assert.Equal(fallback.Thumbprint, (await TlsClient.HandshakeAsync(https, "unknown.example.org")).Certificate.Thumbprint);

        await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("\"route\":\"site\"", StringComparison.Ordinal), because: "the access log file gets a line");
    }

    /// <summary>Replaces each text once; a text the sample no longer has fails the test, so the sample and this test change together.</summary>
    private static string Substitute(string yaml, Dictionary<string, string> replacements)
    {
        foreach (var (from, to) in replacements)
        {
            Assert.True(yaml.Contains(from, StringComparison.Ordinal), $"samples/full.yaml no longer contains '{from}'; update FullSampleTests");
            yaml = yaml.Replace(from, to, StringComparison.Ordinal);
        }
        return yaml;
    }
}
