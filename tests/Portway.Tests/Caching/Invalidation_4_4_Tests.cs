using System.Net;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 9111 §4.4 invalidation by unsafe methods, and the admin purge API (by URL, prefix, tag).</summary>
public sealed class Invalidation_4_4_Tests
{
    private static Task Handler(HttpContext ctx)
    {
        if (HttpMethods.IsPost(ctx.Request.Method))
        {
            ctx.Response.StatusCode = ctx.Request.Query.ContainsKey("fail") ? 500 : 201;
            if (ctx.Request.Query.TryGetValue("location", out var loc)) ctx.Response.Headers.Location = loc.ToString();
            if (ctx.Request.Query.TryGetValue("content-location", out var cl)) ctx.Response.Headers.ContentLocation = cl.ToString();
            return Task.CompletedTask;
        }
        ctx.Response.Headers.CacheControl = "max-age=100";
        ctx.Response.Headers["Surrogate-Key"] = ctx.Request.Path.StartsWithSegments("/tagged") ? "product-1 all" : "all";
        return ctx.Response.WriteAsync("x" + ctx.Request.Path);
    }

    private static async Task<bool> CachedAsync(CacheHarness h, string path) =>
        (await h.GetAsync(path, ("Cache-Control", "only-if-cached"))).StatusCode == HttpStatusCode.OK;

    [Fact]
    public async Task Post_Success_InvalidatesTargetUri()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/item");
        Assert.True(await CachedAsync(h, "/item"));
        await h.SendAsync(HttpMethod.Post, "/item");
        Assert.False(await CachedAsync(h, "/item"));
    }

    [Fact]
    public async Task Post_Failure_KeepsEntry()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/item?fail=1");
        await h.SendAsync(HttpMethod.Post, "/item?fail=1");
        Assert.True(await CachedAsync(h, "/item?fail=1"));
    }

    [Fact]
    public async Task Post_SameOriginLocationAndContentLocation_Invalidated()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/a");
        await h.GetAsync("/b");
        await h.GetAsync("/c");
        await h.SendAsync(HttpMethod.Post, "/x?location=/a&content-location=" + Uri.EscapeDataString(new Uri(h.Edge.ProxyUrl, "/b").ToString()));
        Assert.False(await CachedAsync(h, "/a"));
        Assert.False(await CachedAsync(h, "/b"));
        Assert.True(await CachedAsync(h, "/c"));
    }

    [Fact]
    public async Task Post_OtherOriginLocation_NotInvalidated()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/a");
        await h.SendAsync(HttpMethod.Post, "/x?location=" + Uri.EscapeDataString("http://other.example/a"));
        Assert.True(await CachedAsync(h, "/a"));
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task UnsafeMethods_Invalidate(string method)
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            if (!HttpMethods.IsGet(ctx.Request.Method)) return Task.CompletedTask;
            ctx.Response.Headers.CacheControl = "max-age=100";
            return ctx.Response.WriteAsync("x");
        });
        await h.GetAsync("/item");
        await h.SendAsync(new HttpMethod(method), "/item");
        Assert.False(await CachedAsync(h, "/item"));
    }

    private static async Task<string> PurgeAsync(CacheHarness h, string query)
    {
        using var admin = new HttpClient { BaseAddress = h.Edge.AdminUrl };
        var r = await admin.PostAsync("/cache/purge?" + query, null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Purge_ByUrl_RemovesOne()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/a");
        await h.GetAsync("/b");
        var url = new Uri(h.Edge.ProxyUrl, "/a").ToString();
        Assert.Equal("{\"purged\":1}\n", await PurgeAsync(h, "url=" + Uri.EscapeDataString(url)));
        Assert.False(await CachedAsync(h, "/a"));
        Assert.True(await CachedAsync(h, "/b"));
    }

    [Fact]
    public async Task Purge_ByPrefix_RemovesUnderIt()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/assets/1");
        await h.GetAsync("/assets/2");
        await h.GetAsync("/other");
        var prefix = new Uri(h.Edge.ProxyUrl, "/assets/").ToString();
        Assert.Equal("{\"purged\":2}\n", await PurgeAsync(h, "prefix=" + Uri.EscapeDataString(prefix)));
        Assert.False(await CachedAsync(h, "/assets/1"));
        Assert.True(await CachedAsync(h, "/other"));
    }

    [Fact]
    public async Task Purge_BySurrogateKey_RemovesTagged()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        await h.GetAsync("/tagged/1");
        await h.GetAsync("/plain");
        Assert.Equal("{\"purged\":1}\n", await PurgeAsync(h, "tag=product-1"));
        Assert.False(await CachedAsync(h, "/tagged/1"));
        Assert.True(await CachedAsync(h, "/plain"));
    }

    [Fact]
    public async Task Purge_NoSelector_400SaysWhat()
    {
        await using var h = await CacheHarness.StartAsync(Handler);
        using var admin = new HttpClient { BaseAddress = h.Edge.AdminUrl };
        var r = await admin.PostAsync("/cache/purge", null);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("exactly one of url, prefix or tag", await r.Content.ReadAsStringAsync());
    }
}
