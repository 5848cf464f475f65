using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>
/// RFC 9110 §7.6.1: a proxy removes the fields a response's Connection names, Connection itself
/// and the other hop-by-hop fields, before forwarding the response and before storing it (RFC 9111 §3.1).
/// </summary>
public sealed class ConnectionFields_9110_7_6_1_Tests
{
    // Two Connection lines, one a list; Keep-Alive and Proxy-Connection are hop-by-hop by name.
    private const string Response =
        "HTTP/1.1 200 OK\r\n" +
        "Connection: X-Secret, x-other\r\n" +
        "Connection: X-Third\r\n" +
        "X-Secret: 1\r\n" +
        "X-Other: 2\r\n" +
        "X-Third: 3\r\n" +
        "X-Kept: 4\r\n" +
        "Keep-Alive: timeout=5\r\n" +
        "Proxy-Connection: keep-alive\r\n" +
        "Cache-Control: max-age=60\r\n" +
        "Content-Length: 2\r\n" +
        "\r\n" +
        "ok";

    [Fact]
    public async Task ConnectionNamedFields_Forwarded_RemovedFromResponse()
    {
        await using var origin = RawOrigin.Start(Response);
        await using var h = await CacheHarness.StartAsync(origin, routeCaches: false);

        var response = await h.GetAsync("/a");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Body());
        AssertHopByHopGone(response);
    }

    [Fact]
    public async Task ConnectionNamedFields_StoredResponse_AbsentFromHit()
    {
        await using var origin = RawOrigin.Start(Response);
        await using var h = await CacheHarness.StartAsync(origin);

        var first = await h.GetAsync("/a");
        Assert.Contains("stored", first.CacheStatus());
        AssertHopByHopGone(first);

        var hit = await h.GetAsync("/a");
        Assert.True(hit.IsHit(), hit.CacheStatus());
        Assert.Equal("ok", await hit.Body());
        AssertHopByHopGone(hit);
        Assert.Equal(1, h.OriginRequests);
        // The stored entry itself holds none of them.
        var key = System.Text.RegularExpressions.Regex.Match(first.CacheStatus(), "key=\"([^\"]+)\"").Groups[1].Value;
        var entry = Assert.Single(h.Cache.Store.Variants(key) ?? []);
        Assert.DoesNotContain(entry.Headers, f => f.Key.StartsWith("X-S", StringComparison.OrdinalIgnoreCase) || f.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ConnectionNamedFields_ThroughTunnel_RemovedFromResponse()
    {
        await using var local = await TestOrigin.StartAsync("local", ctx =>
        {
            ctx.Response.Headers.Connection = "X-Secret";
            ctx.Response.Headers["X-Secret"] = "1";
            ctx.Response.Headers["X-Kept"] = "4";
            return ctx.Response.WriteAsync("ok");
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url));
        using var client = TunnelClient.Create();

        var response = await client.GetAsync(new Uri(agent.Url, "/a"));

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal("4", response.Header("X-Kept"));
        Assert.Equal("", response.Header("X-Secret"));
    }

    [Fact]
    public async Task ConnectionNamedTrailer_Forwarded_RemovedFromTrailers()
    {
        // HTTP/1.1 origin with chunked trailers; the client reads them over HTTP/2 (Kestrel sends
        // response trailers on HTTP/2 only).
        await using var origin = RawOrigin.Start(
            "HTTP/1.1 200 OK\r\n" +
            "Connection: X-Secret\r\n" +
            "Trailer: X-Secret, X-Kept\r\n" +
            "Transfer-Encoding: chunked\r\n" +
            "\r\n" +
            "2\r\nok\r\n0\r\nX-Secret: 1\r\nX-Kept: 4\r\n\r\n");
        await using var edge = await TestEdge.StartAsync("listeners:\n  - url: http://127.0.0.1:0\n    protocols: http2\n" + TestEdge.OneRoute(origin.Url));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/t") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

        var response = await edge.Client.SendAsync(request);

        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal("4", Assert.Single(response.TrailingHeaders.GetValues("X-Kept")));
        Assert.False(response.TrailingHeaders.Contains("X-Secret"), "X-Secret reached the client as a trailer");
    }

    private static void AssertHopByHopGone(HttpResponseMessage response)
    {
        Assert.Equal("4", response.Header("X-Kept"));
        foreach (var name in new[] { "X-Secret", "X-Other", "X-Third", "Keep-Alive", "Proxy-Connection" })
            Assert.True(response.Header(name) == "", $"{name}: {response.Header(name)} reached the client");
        Assert.DoesNotContain(response.Headers.Connection, o => o.StartsWith("X-", StringComparison.OrdinalIgnoreCase));
    }
}
