using Microsoft.AspNetCore.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 9111 §3 (storing responses) and §3.5 (Authorization), plus must-understand (§5.2.2.3).</summary>
public sealed class Storing_3_Tests
{
    private static Func<HttpContext, Task> Respond(string cacheControl, int status = 200) => ctx =>
    {
        ctx.Response.StatusCode = status;
        ctx.Response.Headers.CacheControl = cacheControl;
        return ctx.Response.WriteAsync("body");
    };

    private static async Task AssertNotStoredAsync(CacheHarness h, string detail, params (string, string)[] headers)
    {
        var first = await h.GetAsync("/x", headers);
        Assert.DoesNotContain("stored", first.CacheStatus());
        Assert.Contains("detail=" + detail, first.CacheStatus());
        var second = await h.GetAsync("/x", headers);
        Assert.False(second.IsHit(), second.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task NoStore_Response_NotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("no-store, max-age=60"));
        await AssertNotStoredAsync(h, "no-store");
    }

    [Fact]
    public async Task Private_Response_NeverInSharedCache()
    {
        await using var h = await CacheHarness.StartAsync(Respond("private, max-age=60"));
        await AssertNotStoredAsync(h, "private");
    }

    [Fact]
    public async Task NoStore_Request_ResponseNotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"));
        await AssertNotStoredAsync(h, "request-no-store", ("Cache-Control", "no-store"));
    }

    [Fact]
    public async Task Authorization_WithoutPermission_NotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"));
        await AssertNotStoredAsync(h, "authorization", ("Authorization", "Bearer abc"));
    }

    [Theory]
    [InlineData("public, max-age=60")]
    [InlineData("s-maxage=60")]
    [InlineData("must-revalidate, max-age=60")]
    public async Task Authorization_ResponseAllowsIt_Stored(string cacheControl)
    {
        await using var h = await CacheHarness.StartAsync(Respond(cacheControl));
        await h.GetAsync("/x", ("Authorization", "Bearer abc"));
        var second = await h.GetAsync("/x", ("Authorization", "Bearer abc"));
        Assert.True(second.IsHit(), second.CacheStatus());
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task Public_WithoutLifetime_StoredWithHeuristicOrValidators()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 302;
            ctx.Response.Headers.CacheControl = "public, max-age=30";
            ctx.Response.Headers.Location = "/y";
            return Task.CompletedTask;
        });
        await h.GetAsync("/x");
        var second = await h.GetAsync("/x");
        Assert.True(second.IsHit(), second.CacheStatus());
        Assert.Equal(302, (int)second.StatusCode);
        Assert.Equal("/y", second.Headers.Location?.ToString());
    }

    [Fact]
    public async Task MustUnderstand_UnderstoodStatus_StoredDespiteNoStore()
    {
        await using var h = await CacheHarness.StartAsync(Respond("must-understand, no-store, max-age=60"));
        await h.GetAsync("/x");
        Assert.True((await h.GetAsync("/x")).IsHit());
    }

    [Fact]
    public async Task MustUnderstand_UnknownStatus_NotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("must-understand, no-store, max-age=60", status: 299));
        await AssertNotStoredAsync(h, "status");
    }

    [Fact]
    public async Task SetCookie_NotStored()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=60";
            ctx.Response.Headers.SetCookie = "session=1";
            return ctx.Response.WriteAsync("x");
        });
        await AssertNotStoredAsync(h, "set-cookie");
    }

    [Fact]
    public async Task ServerError_NotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60", status: 500));
        await AssertNotStoredAsync(h, "status");
    }

    [Fact]
    public async Task Post_Bypasses_AndIsNotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"));
        var post = await h.SendAsync(HttpMethod.Post, "/x");
        Assert.Equal("Portway; fwd=bypass", post.CacheStatus());
        var get = await h.GetAsync("/x");
        Assert.Contains("fwd=uri-miss", get.CacheStatus());
    }

    [Fact]
    public async Task NoCache_Response_StoredButRevalidatedEveryTime()
    {
        var etag = "\"v1\"";
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "no-cache, max-age=600";
            ctx.Response.Headers.ETag = etag;
            if (ctx.Request.Headers.IfNoneMatch == etag)
            {
                ctx.Response.StatusCode = 304;
                return Task.CompletedTask;
            }
            return ctx.Response.WriteAsync("body");
        });
        await h.GetAsync("/x");
        var second = await h.GetAsync("/x");
        Assert.Equal("body", await second.Body());
        Assert.Contains("fwd=stale; fwd-status=304", second.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
    }
}
