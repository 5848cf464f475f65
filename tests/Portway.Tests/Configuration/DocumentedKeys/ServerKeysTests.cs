using System.Net;
using System.Net.Sockets;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>listeners, admin, forwarded and access_log: where the edge listens and what it adds to and records of each request.</summary>
public sealed class ServerKeysTests
{
    [Fact]
    [CoversKey("listeners[].url", "listeners[].name")]
    public async Task Listener_UrlAndName_ServesThereAndNamesItInTheAddresses()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        var port = Probe.FreePort();
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - name: public
                url: http://127.0.0.5:{port}
            {TestEdge.OneRoute(origin.Url)}
            """);

        using var client = new HttpClient();
        Assert.Equal("a", await client.GetStringAsync($"http://127.0.0.5:{port}/"));
        // The banner prints these.
        Assert.Contains(edge.Host.Addresses, a => a.Url == $"http://127.0.0.5:{port}" && a.Purpose.Contains("'public'", StringComparison.Ordinal));
    }

    [Fact]
    [CoversKey("listeners[].protocols=http1", "listeners[].protocols=http2")]
    public async Task Listener_Protocols_Http1AndCleartextHttp2EachOnTheirOwn()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - name: h1
                url: http://127.0.0.1:0
                protocols: http1
              - name: h2c
                url: http://127.0.0.1:0
                protocols: http2
            {TestEdge.OneRoute(origin.Url)}
            """);
        var h1 = new Uri(edge.Host.Addresses.First(a => a.Purpose.Contains("'h1'", StringComparison.Ordinal)).Url);
        var h2c = new Uri(edge.Host.Addresses.First(a => a.Purpose.Contains("'h2c'", StringComparison.Ordinal)).Url);
        using var client = new HttpClient();

        Assert.Equal(HttpVersion.Version20, (await SendAsync(client, h2c, HttpVersion.Version20)).Version);
        Assert.Equal(HttpVersion.Version11, (await SendAsync(client, h1, HttpVersion.Version11)).Version);
        // Prior-knowledge HTTP/2 on the http1 listener, and HTTP/1.1 on the h2c one, are not understood.
        Assert.Equal("not served", await OutcomeAsync(client, h1, HttpVersion.Version20));
        Assert.Equal("not served", await OutcomeAsync(client, h2c, HttpVersion.Version11));
    }

    [Theory]
    [InlineData("http1", "1.1")]
    [InlineData("http1_and_http2", "2.0")]
    [CoversKey("listeners[].protocols=http1_and_http2")]
    public async Task Listener_ProtocolsOnHttps_AlpnOffersHttp2OnlyWhenListed(string protocols, string negotiated)
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "localhost", ["localhost"]);
        var (cert, key) = TestCertificates.WritePem(dir, "site", leaf);
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - url: https://127.0.0.1:0
                protocols: {protocols}
            tls:
              sites:
                - default: true
                  cert: {cert}
                  key: {key}
            {TestEdge.OneRoute(origin.Url)}
            """);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });

        using var request = new HttpRequestMessage(HttpMethod.Get, edge.Url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Version.Parse(negotiated), response.Version);
    }

    [Fact]
    [CoversKey("admin.url")]
    public async Task Admin_Url_HealthzAndMetricsAnswerThereOnly()
    {
        var port = Probe.FreePort();
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            admin:
              url: http://127.0.0.6:{port}
            {TestEdge.OneRoute(origin.Url)}
            """);
        using var client = new HttpClient();

        Assert.Equal("ok\n", await client.GetStringAsync($"http://127.0.0.6:{port}/healthz"));
        Assert.Contains("# TYPE", await client.GetStringAsync($"http://127.0.0.6:{port}/metrics"));
        Assert.Equal("a", await edge.Client.GetStringAsync("/healthz")); // the proxy listener forwards it
    }

    [Fact]
    [CoversKey("admin.enabled")]
    public async Task Admin_Disabled_NothingListensOnItsUrl()
    {
        var port = Probe.FreePort();
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            admin:
              url: http://127.0.0.1:{port}
              enabled: false
            {TestEdge.OneRoute(origin.Url)}
            """);

        Assert.Null(edge.Host.AdminUrl);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal("a", await edge.Client.GetStringAsync("/"));
    }

    [Theory]
    [InlineData("x_forwarded: false", false, true)]
    [InlineData("forwarded: false", true, false)]
    [InlineData("x_forwarded: true\n  forwarded: true", true, true)]
    [CoversKey("forwarded.x_forwarded", "forwarded.forwarded")]
    public async Task Forwarded_Switches_DecideWhichHeadersTheOriginGets(string setting, bool xForwarded, bool forwarded)
    {
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync($"""
            forwarded:
              {setting}
            {TestEdge.OneRoute(origin.Url)}
            """);

        var seen = await Probe.SeenAsync(await Probe.SendAsync(edge.Client, "GET / X-Forwarded-For=6.6.6.6 X-Forwarded-Proto=https Forwarded=for=6.6.6.6"));

        // Switched off, the header is not sent, and a visitor's forged one is not passed on either.
        Assert.Equal(xForwarded ? "127.0.0.1" : null, seen.Header("X-Forwarded-For"));
        Assert.Equal(xForwarded ? "http" : null, seen.Header("X-Forwarded-Proto"));
        Assert.Equal(forwarded ? "for=127.0.0.1" : null, seen.Header("Forwarded")?.Split(';')[0]);
    }

    [Fact]
    [CoversKey("forwarded.request_id_header")]
    public async Task RequestIdHeader_Renamed_KeptGeneratedAndReturnedUnderThatName()
    {
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync($"""
            forwarded:
              request_id_header: X-Trace-Id
            {TestEdge.OneRoute(origin.Url)}
            """);

        using var kept = await Probe.SendAsync(edge.Client, "GET / X-Trace-Id=trace-77");
        Assert.Equal("trace-77", (await Probe.SeenAsync(kept)).Header("X-Trace-Id"));
        Assert.Equal("trace-77", Assert.Single(kept.Headers.GetValues("X-Trace-Id")));

        using var generated = await edge.Client.GetAsync("/");
        var id = Assert.Single(generated.Headers.GetValues("X-Trace-Id"));
        var seen = await Probe.SeenAsync(generated);
        Assert.Equal(id, seen.Header("X-Trace-Id"));
        Assert.Null(seen.Header("X-Request-Id"));
        Assert.False(generated.Headers.Contains("X-Request-Id"));
    }

    [Fact]
    [CoversKey("access_log.enabled")]
    public async Task AccessLog_Disabled_FileTargetGetsNoLine()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        var dir = Directory.CreateTempSubdirectory("portway-log-").FullName;
        var on = Path.Combine(dir, "on.log");
        var off = Path.Combine(dir, "off.log");

        foreach (var (path, enabled) in new[] { (on, "true"), (off, "false") })
        {
            await using var edge = await TestEdge.StartAsync($"""
                access_log:
                  enabled: {enabled}
                  target: {path}
                {TestEdge.OneRoute(origin.Url)}
                """);
            Assert.Equal("a", await edge.Client.GetStringAsync("/logged"));
            // Stopping the edge flushes the writer: after it, every line that will be written is written.
        }

        Assert.Contains("/logged", File.ReadAllText(on));
        Assert.False(File.Exists(off) && File.ReadAllText(off).Length > 0, "a disabled access log wrote to its target");
    }

    private static async Task<string> OutcomeAsync(HttpClient client, Uri url, Version version)
    {
        try
        {
            using var response = await SendAsync(client, url, version);
            return response.StatusCode == HttpStatusCode.OK ? $"200 over HTTP/{response.Version}" : "not served";
        }
        catch (HttpRequestException)
        {
            return "not served";
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Uri url, Version version)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        return await client.SendAsync(request);
    }
}
