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

    [Fact]
    public async Task Connect_AnyHost_421AndNothingForwarded()
    {
        var response = await RawHttp.SendAsync(_edge.Url, "CONNECT site.test:443 HTTP/1.1\r\nHost: site.test:443\r\n\r\n");
        Assert.Contains(RawHttp.Status(response), new[] { 400, 405, 421 });
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

    private Task<HttpResponseMessage> Get(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "site.test";
        return _edge.Client.SendAsync(request);
    }
}
