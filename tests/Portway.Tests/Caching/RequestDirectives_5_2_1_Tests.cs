using System.Net;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 9111 §5.2.1: request directives max-age, max-stale, min-fresh, no-cache, no-store, only-if-cached; RFC 8246 immutable.</summary>
public sealed class RequestDirectives_5_2_1_Tests
{
    private static Func<HttpContext, Task> Respond(string cacheControl) => ctx =>
    {
        ctx.Response.Headers.CacheControl = cacheControl;
        return ctx.Response.WriteAsync("body");
    };

    [Fact]
    public async Task MaxAge_OlderThanClientAllows_GoesToOrigin()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=100"));
        await h.GetAsync("/r");
        h.Advance(TimeSpan.FromSeconds(30));
        Assert.True((await h.GetAsync("/r", ("Cache-Control", "max-age=40"))).IsHit());
        var r = await h.GetAsync("/r", ("Cache-Control", "max-age=20"));
        Assert.False(r.IsHit());
        Assert.Contains("fwd=request", r.CacheStatus());
    }

    [Fact]
    public async Task MaxStale_ClientAcceptsStale_ServedWithoutOrigin()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=10"));
        await h.GetAsync("/r");
        h.Advance(TimeSpan.FromSeconds(15));
        var ok = await h.GetAsync("/r", ("Cache-Control", "max-stale=10"));
        Assert.True(ok.IsHit(), ok.CacheStatus());
        Assert.Contains("ttl=-5", ok.CacheStatus());
        var any = await h.GetAsync("/r", ("Cache-Control", "max-stale"));
        Assert.True(any.IsHit());
        Assert.Equal(1, h.OriginRequests);
        var tooStale = await h.GetAsync("/r", ("Cache-Control", "max-stale=2"));
        Assert.False(tooStale.IsHit());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task MaxStale_MustRevalidate_NeverServedStale()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=10, must-revalidate"));
        await h.GetAsync("/r");
        h.Advance(TimeSpan.FromSeconds(15));
        var r = await h.GetAsync("/r", ("Cache-Control", "max-stale"));
        Assert.False(r.IsHit());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task MinFresh_NotFreshEnough_GoesToOrigin()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=100"));
        await h.GetAsync("/r");
        h.Advance(TimeSpan.FromSeconds(80));
        Assert.True((await h.GetAsync("/r", ("Cache-Control", "min-fresh=10"))).IsHit());
        Assert.False((await h.GetAsync("/r", ("Cache-Control", "min-fresh=30"))).IsHit());
    }

    [Fact]
    public async Task NoCache_Request_RevalidatesFreshEntry()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=100"));
        await h.GetAsync("/r");
        var r = await h.GetAsync("/r", ("Cache-Control", "no-cache"));
        Assert.Contains("fwd=request", r.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
        var pragma = await h.GetAsync("/r", ("Pragma", "no-cache"));
        Assert.Contains("fwd=request", pragma.CacheStatus());
    }

    [Fact]
    public async Task NoStore_Request_StillServedFromCache()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=100"));
        await h.GetAsync("/r");
        Assert.True((await h.GetAsync("/r", ("Cache-Control", "no-store"))).IsHit());
    }

    [Fact]
    public async Task OnlyIfCached_Miss_504WithoutOrigin()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=100"));
        var r = await h.GetAsync("/r", ("Cache-Control", "only-if-cached"));
        Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        Assert.Equal(0, h.OriginRequests);
        await h.GetAsync("/r");
        Assert.True((await h.GetAsync("/r", ("Cache-Control", "only-if-cached"))).IsHit());
    }

    [Fact]
    public async Task Immutable_Fresh_ReloadWithMaxAgeZeroStillHit()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=1000, immutable"));
        await h.GetAsync("/r");
        h.Advance(TimeSpan.FromSeconds(5));
        Assert.True((await h.GetAsync("/r", ("Cache-Control", "max-age=0"))).IsHit());
        // A force reload (no-cache) still goes to the origin.
        Assert.False((await h.GetAsync("/r", ("Cache-Control", "no-cache"))).IsHit());
    }
}
