using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Caching;

/// <summary>RFC 9111 §4.2: freshness lifetime (s-maxage, max-age, Expires, heuristic), Age, and RFC 9213 CDN-Cache-Control.</summary>
public sealed class Freshness_4_2_Tests
{
    private static Func<HttpContext, Task> Respond(string cacheControl, string body = "payload") => ctx =>
    {
        ctx.Response.Headers.CacheControl = cacheControl;
        return ctx.Response.WriteAsync(body);
    };

    [Fact]
    public async Task MaxAge_WithinLifetime_SecondRequestIsHitWithAge()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"));
        var first = await h.GetAsync("/a");
        Assert.Contains("fwd=uri-miss", first.CacheStatus());
        Assert.Contains("stored", first.CacheStatus());
        h.Advance(TimeSpan.FromSeconds(10));
        var second = await h.GetAsync("/a");
        Assert.True(second.IsHit(), second.CacheStatus());
        Assert.Equal("payload", await second.Body());
        Assert.Equal(10, second.AgeSeconds());
        Assert.Contains("ttl=50", second.CacheStatus());
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task MaxAge_PastLifetime_GoesBackToOrigin()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"));
        await h.GetAsync("/a");
        h.Advance(TimeSpan.FromSeconds(61));
        var second = await h.GetAsync("/a");
        Assert.False(second.IsHit());
        Assert.Contains("fwd=stale", second.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task SMaxAge_OverridesMaxAge_ForSharedCache()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=5, s-maxage=100"));
        await h.GetAsync("/a");
        h.Advance(TimeSpan.FromSeconds(50));
        var second = await h.GetAsync("/a");
        Assert.True(second.IsHit(), second.CacheStatus());
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task Expires_RelativeToDate_GivesLifetime()
    {
        FakeClock? clock = null;
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.Expires = HeaderUtilities.FormatDate(clock!.Now() + TimeSpan.FromSeconds(30));
            return ctx.Response.WriteAsync("x");
        });
        clock = new FakeClock(h);
        await h.GetAsync("/e");
        h.Advance(TimeSpan.FromSeconds(20));
        Assert.True((await h.GetAsync("/e")).IsHit());
        h.Advance(TimeSpan.FromSeconds(15));
        Assert.False((await h.GetAsync("/e")).IsHit());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Expires_Invalid_TreatedAsAlreadyExpired()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.Expires = "0";
            ctx.Response.Headers.ETag = "\"v1\"";
            return ctx.Response.WriteAsync("x");
        });
        await h.GetAsync("/e");
        var second = await h.GetAsync("/e");
        Assert.False(second.IsHit(), second.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Heuristic_LastModified_TenPercentOfAge()
    {
        FakeClock? clock = null;
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            // Modified 1000 s before the response: 10% = 100 s of heuristic freshness (§4.2.2).
            ctx.Response.Headers.LastModified = HeaderUtilities.FormatDate(clock!.Now() - TimeSpan.FromSeconds(1000));
            return ctx.Response.WriteAsync("x");
        });
        clock = new FakeClock(h);
        await h.GetAsync("/h");
        h.Advance(TimeSpan.FromSeconds(90));
        var hit = await h.GetAsync("/h");
        Assert.True(hit.IsHit(), hit.CacheStatus());
        Assert.Contains("ttl=10", hit.CacheStatus());
        h.Advance(TimeSpan.FromSeconds(20));
        Assert.False((await h.GetAsync("/h")).IsHit());
    }

    [Fact]
    [CoversKey("cache.heuristic.max")]
    public async Task Heuristic_CappedByConfig()
    {
        FakeClock? clock = null;
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.LastModified = HeaderUtilities.FormatDate(clock!.Now() - TimeSpan.FromDays(365));
            return ctx.Response.WriteAsync("x");
        }, "heuristic:\n  fraction: 0.5\n  max: 60s");
        clock = new FakeClock(h);
        var first = await h.GetAsync("/h");
        Assert.Contains("ttl=60;", first.CacheStatus());
    }

    [Fact]
    public async Task Heuristic_StatusNotHeuristicallyCacheable_NotStored()
    {
        FakeClock? clock = null;
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 302;
            ctx.Response.Headers.Location = "/elsewhere";
            ctx.Response.Headers.LastModified = HeaderUtilities.FormatDate(clock!.Now() - TimeSpan.FromDays(1));
            return Task.CompletedTask;
        });
        clock = new FakeClock(h);
        var first = await h.GetAsync("/r");
        Assert.DoesNotContain("stored", first.CacheStatus());
        Assert.Contains("detail=not-cacheable-status", first.CacheStatus());
    }

    [Fact]
    public async Task Age_FromUpstream_AddsToCurrentAge()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=100";
            ctx.Response.Headers.Age = "30";
            return ctx.Response.WriteAsync("x");
        });
        await h.GetAsync("/a");
        h.Advance(TimeSpan.FromSeconds(5));
        var hit = await h.GetAsync("/a");
        Assert.True(hit.IsHit());
        // corrected_initial_age = 30 (plus a sub-second response delay), resident 5 s (§4.2.3).
        Assert.Equal(35, hit.AgeSeconds());
        h.Advance(TimeSpan.FromSeconds(70));
        Assert.False((await h.GetAsync("/a")).IsHit());
    }

    [Fact]
    public async Task CdnCacheControl_OverridesCacheControl()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "no-store";
            ctx.Response.Headers["CDN-Cache-Control"] = "max-age=120";
            return ctx.Response.WriteAsync("x");
        });
        await h.GetAsync("/c");
        h.Advance(TimeSpan.FromSeconds(100));
        var hit = await h.GetAsync("/c");
        Assert.True(hit.IsHit(), hit.CacheStatus());
        // Downstream caches still see the origin's own Cache-Control.
        Assert.Equal("no-store", hit.Header("Cache-Control"));
    }

    [Fact]
    [CoversKey("cache.cdn_cache_control")]
    public async Task CdnCacheControl_Disabled_CacheControlRules()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "no-store";
            ctx.Response.Headers["CDN-Cache-Control"] = "max-age=120";
            return ctx.Response.WriteAsync("x");
        }, "cdn_cache_control: false");
        await h.GetAsync("/c");
        Assert.False((await h.GetAsync("/c")).IsHit());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Route_WithoutCache_NoCacheStatusAndNotStored()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"), routeCaches: false);
        var first = await h.GetAsync("/a");
        var second = await h.GetAsync("/a");
        Assert.Equal("", second.CacheStatus());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Route_CacheSwitchedOnByReload_StoresWithoutRestart()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=60"), routeCaches: false);
        await h.GetAsync("/a");
        await h.EditConfigAsync("cache: false", "cache: true");
        await Wait.UntilAsync(() => h.Edge.State.Current.Routes[0].Cache, because: "config reloaded");
        await Wait.UntilAsync(async () => (await h.GetAsync("/a")).IsHit(), because: "YARP picked up the route metadata");
    }

    /// <summary>Reads the harness clock from inside an origin handler (the harness exists only after start).</summary>
    private sealed class FakeClock(CacheHarness h)
    {
        public DateTimeOffset Now() => h.Time.GetUtcNow();
    }
}
