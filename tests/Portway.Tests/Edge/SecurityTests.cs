using System.Net;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Edge;

/// <summary>Never an open proxy; hostile and malformed requests get the right 4xx and reach nobody.</summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;
    private TestEdge _edge = null!;

    public async Task InitializeAsync()
    {
        _origin = await TestOrigin.StartAsync("site");
        _edge = await TestEdge.StartAsync($"""
            listeners:
              - name: http
                url: http://127.0.0.1:0
              - name: h2
                url: http://127.0.0.1:0
                protocols: http2
            limits:
              max_request_header_bytes: 8k
              max_request_body_bytes: 1k
              max_request_line_bytes: 2k
            routes:
              - id: site
                match: {"{"} hosts: [site.test] {"}"}
                cluster: app
            clusters:
              - id: app
                destinations: [{_origin.Url}]
            """);
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Fact]
    public async Task AbsoluteForm_HostNoRouteClaims_404AndNothingForwarded()
    {
        var response = await RawHttp.SendAsync(_edge.Url, "GET http://evil.test/steal HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n");
        Assert.Equal(404, RawHttp.Status(response));
        Assert.Contains("No route", response);
        Assert.Equal(0, _origin.Requests);
    }

    [Fact]
    public async Task AbsoluteForm_HostDiffersFromHeader_Rejected()
    {
        var response = await RawHttp.SendAsync(_edge.Url, "GET http://evil.test/ HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
        Assert.Equal(400, RawHttp.Status(response));
        Assert.Equal(0, _origin.Requests);
    }

    // Every CONNECT Kestrel lets through reaches RequestGuardMiddleware, whatever its target form:
    // authority-form to a routed host, to a foreign host, to a loopback port (the open-proxy probe),
    // with a body length, HTTP/1.0 without Host, and origin-form, absolute-form or port-less targets.
    [Theory]
    [InlineData("CONNECT site.test:443 HTTP/1.1\r\nHost: site.test:443\r\n\r\n")]
    [InlineData("CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n")]
    [InlineData("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")]
    [InlineData("CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("CONNECT evil.test:443 HTTP/1.0\r\n\r\n")]
    [InlineData("CONNECT / HTTP/1.1\r\nHost: site.test\r\n\r\n")]
    [InlineData("CONNECT http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n")]
    [InlineData("CONNECT evil.test HTTP/1.1\r\nHost: evil.test\r\n\r\n")]
    public async Task Connect_AnyHost_421AndNothingForwarded(string request)
    {
        var response = await RawHttp.SendAsync(_edge.Url, request);
        Assert.True(RawHttp.Status(response) == 421, response);
        Assert.Contains("not a forward proxy", response);
        Assert.Equal(0, _origin.Requests);
    }

    // Kestrel's parser refuses these before any middleware runs, and must: RFC 9112 §3.2 requires a
    // 400 for an HTTP/1.1 request without Host, and says a Host must be identical to the target's
    // authority, which Kestrel enforces for an authority-form target. Pinned so a change is noticed.
    [Theory]
    [InlineData("CONNECT evil.test:443 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT evil.test:443 HTTP/1.1\r\nHost: site.test\r\n\r\n")]
    public async Task Connect_HostMissingOrNotTheTarget_400FromKestrelNothingForwarded(string request)
    {
        var response = await RawHttp.SendAsync(_edge.Url, request);
        Assert.True(RawHttp.Status(response) == 400, response);
        Assert.Equal(0, _origin.Requests);
    }

    // HTTP/2 has one CONNECT form (RFC 9113 §8.5): :method and :authority, nothing else.
    [Theory]
    [InlineData("site.test:443")]
    [InlineData("evil.test:443")]
    [InlineData("127.0.0.1:22")]
    public async Task Connect_Http2_421AndNothingForwarded(string authority)
    {
        var response = await RawHttp2.SendAsync(H2Url, (":method", "CONNECT"), (":authority", authority));
        Assert.True(response.Status == 421, $"status {response.Status}, {response.Error}: {response.Body}");
        Assert.Contains("not a forward proxy", response.Body);
        Assert.Equal(0, _origin.Requests);
    }

    // RFC 9113 §8.5: a CONNECT with :scheme or :path is malformed, and Kestrel resets the stream
    // (§8.1.1) before any middleware runs.
    [Fact]
    public async Task Connect_Http2WithSchemeAndPath_StreamResetNothingForwarded()
    {
        var response = await RawHttp2.SendAsync(H2Url, (":method", "CONNECT"), (":authority", "evil.test:443"), (":scheme", "http"), (":path", "/"));
        Assert.Equal(0, response.Status);
        Assert.Equal("RST_STREAM PROTOCOL_ERROR", response.Error);
        Assert.Equal(0, _origin.Requests);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: site.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: site.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde")]
    [InlineData("GET / HTTP/1.1\r\nHost: site.test\r\nX-Folded: a\r\n  b\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: gzip, chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: site.test\r\nHost: other.test\r\n\r\n")]
    public async Task SmugglingShape_Rejected400_NotForwarded(string request)
    {
        var response = await RawHttp.SendAsync(_edge.Url, request);
        Assert.Equal(400, RawHttp.Status(response));
        Assert.Equal(0, _origin.Requests);
        // The edge is undisturbed: the next request on a new connection works.
        var ok = await Get("/after");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    [CoversKey("limits.max_request_header_bytes")]
    public async Task HugeHeaders_431()
    {
        var response = await RawHttp.SendAsync(_edge.Url, $"GET / HTTP/1.1\r\nHost: site.test\r\nX-Big: {new string('a', 9000)}\r\n\r\n");
        Assert.Equal(431, RawHttp.Status(response));
        Assert.Equal(0, _origin.Requests);
    }

    [Fact]
    [CoversKey("limits.max_request_line_bytes")]
    public async Task LongRequestLine_414()
    {
        var response = await RawHttp.SendAsync(_edge.Url, $"GET /{new string('a', 3000)} HTTP/1.1\r\nHost: site.test\r\n\r\n");
        Assert.Equal(414, RawHttp.Status(response));
    }

    [Fact]
    [CoversKey("limits.max_request_body_bytes")]
    public async Task BodyOverLimit_413()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new ByteArrayContent(new byte[4096]) };
        request.Headers.Host = "site.test";
        var response = await _edge.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task UnknownHost_404Page_NamesTheHost()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "nobody.test";
        request.Headers.Accept.ParseAdd("text/html");
        var response = await _edge.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("nobody.test", body);
        Assert.Contains("<html>", body);
    }

    private Uri H2Url => new(_edge.Host.Addresses.First(a => a.Purpose.Contains("'h2'", StringComparison.Ordinal)).Url);

    private Task<HttpResponseMessage> Get(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "site.test";
        return _edge.Client.SendAsync(request);
    }
}
