using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>routes[].transforms (every kind), routes[].cache: what the origin and the client see changes with each.</summary>
public sealed class RouteTransformKeysTests
{
    private static string Config(Uri origin, string transform) => $"""
        routes:
          - id: web
            cluster: app
            transforms:
              - {transform}
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    [Theory]
    [InlineData("{ kind: request_header_set, name: X-Edge, value: portway }", "GET /a X-Edge=visitor", "header X-Edge=portway")]
    [InlineData("{ kind: request_header_set, name: X-Added, value: yes }", "GET /a", "header X-Added=yes")]
    [InlineData("{ kind: request_header_remove, name: X-Secret }", "GET /a X-Secret=s3cret X-Kept=1", "header X-Secret=")]
    [InlineData("{ kind: path_remove_prefix, value: /v1 }", "GET /v1/items?x=1", "path /items")]
    [InlineData("{ kind: path_set, value: /fixed }", "GET /anything/else", "path /fixed")]
    [InlineData("{ kind: path_prefix, value: /api }", "GET /items", "path /api/items")]
    [CoversKey("routes[].transforms[].kind=request_header_set", "routes[].transforms[].kind=request_header_remove",
        "routes[].transforms[].kind=path_remove_prefix", "routes[].transforms[].kind=path_set", "routes[].transforms[].kind=path_prefix",
        "routes[].transforms[].name", "routes[].transforms[].value")]
    public async Task RequestTransform_Kind_OriginSeesTheChange(string transform, string request, string expected)
    {
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, transform));

        using var response = await Probe.SendAsync(edge.Client, request);
        var seen = await Probe.SeenAsync(response);

        var (what, value) = (expected[..expected.IndexOf(' ')], expected[(expected.IndexOf(' ') + 1)..]);
        if (what == "path") Assert.Equal(value, seen.Path);
        else
        {
            var (name, headerValue) = (value[..value.IndexOf('=')], value[(value.IndexOf('=') + 1)..]);
            Assert.Equal(headerValue.Length == 0 ? null : headerValue, seen.Header(name));
        }
    }

    [Fact]
    [CoversKey("routes[].transforms[].kind=response_header_set", "routes[].transforms[].kind=response_header_remove")]
    public async Task ResponseTransforms_SetAndRemove_ClientSeesTheChange()
    {
        await using var origin = await TestOrigin.StartAsync("a", ctx =>
        {
            ctx.Response.Headers["X-Powered-By"] = "origin-framework";
            ctx.Response.StatusCode = ctx.Request.Path == "/missing" ? 404 : 200;
            return ctx.Response.WriteAsync("body");
        });
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: web
                cluster: app
                transforms:
                  - {"{"} kind: response_header_set, name: X-Served-By, value: portway {"}"}
                  - {"{"} kind: response_header_remove, name: X-Powered-By {"}"}
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);

        // On errors too ("When: Always"): a 404 page from the origin is still the edge's response.
        foreach (var path in new[] { "/", "/missing" })
        {
            using var response = await edge.Client.GetAsync(path);
            Assert.Equal("portway", Assert.Single(response.Headers.GetValues("X-Served-By")));
            Assert.False(response.Headers.Contains("X-Powered-By"), $"X-Powered-By removed on {path}");
            Assert.Equal("a", Cluster(response));
        }
    }

    [Fact]
    [CoversKey("routes[].cache.enabled")]
    public async Task Cache_EnabledMapping_SecondRequestServedWithoutTheOrigin()
    {
        await using var origin = await TestOrigin.StartAsync("a", ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=300";
            return ctx.Response.WriteAsync("cached body");
        });
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: cached
                match: {"{"} path_prefix: /cached {"}"}
                cluster: app
                cache: {"{"} enabled: true {"}"}
              - id: plain
                cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);

        for (var i = 0; i < 3; i++)
        {
            using var cached = await edge.Client.GetAsync("/cached/page");
            Assert.Equal("cached body", await cached.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, origin.Requests);

        // The same cacheable answer on a route without the key goes to the origin every time.
        for (var i = 0; i < 2; i++) (await edge.Client.GetAsync("/plain/page")).Dispose();
        Assert.Equal(3, origin.Requests);
    }

    [Fact]
    [CoversKey("routes[].timeout")]
    public async Task Timeout_RequestOutlastsIt_504WhileAFastOneIsAnswered()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await TestOrigin.StartAsync("a", async ctx =>
        {
            if (ctx.Request.Path == "/slow") await release.Task.WaitAsync(ctx.RequestAborted);
            await ctx.Response.WriteAsync("done");
        });
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: api
                cluster: app
                timeout: 300ms
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);

        using var fast = await edge.Client.GetAsync("/fast");
        // Never released: only the route timeout (the cluster's response timeout is 60 s) can end it.
        using var slow = await edge.Client.GetAsync("/slow");
        release.SetResult();

        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Contains("Route 'api'", await slow.Content.ReadAsStringAsync());
    }

    private static string Cluster(HttpResponseMessage response) => LoadBalancing.Cluster.OriginOf(response);
}
