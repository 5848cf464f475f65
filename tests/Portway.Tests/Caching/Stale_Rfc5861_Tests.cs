using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Caching;
using Microsoft.Extensions.DependencyInjection;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 5861 stale-while-revalidate and stale-if-error, bounded by must-revalidate (RFC 9111 §4.2.4).</summary>
public sealed class Stale_Rfc5861_Tests
{
    /// <summary>An origin whose answers the test switches: version counter, failing mode.</summary>
    private sealed class Switchable(string cacheControl)
    {
        public volatile int Version = 1;
        public volatile int FailWith;

        public Task Handle(HttpContext ctx)
        {
            if (FailWith != 0)
            {
                ctx.Response.StatusCode = FailWith;
                return ctx.Response.WriteAsync("origin broken");
            }
            ctx.Response.Headers.CacheControl = cacheControl;
            return ctx.Response.WriteAsync("v" + Version);
        }
    }

    [Fact]
    public async Task StaleWhileRevalidate_ServesStaleAndRefreshesInBackground()
    {
        var origin = new Switchable("max-age=10, stale-while-revalidate=60");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        origin.Version = 2;
        h.Advance(TimeSpan.FromSeconds(20));
        var stale = await h.GetAsync("/s");
        Assert.Equal("v1", await stale.Body());
        Assert.Contains("detail=stale-while-revalidate", stale.CacheStatus());
        await Wait.UntilAsync(() => h.OriginRequests == 2 && h.Edge.Services.GetRequiredService<BackgroundRevalidator>().Running == 0, because: "background refresh");
        var refreshed = await h.GetAsync("/s");
        Assert.True(refreshed.IsHit(), refreshed.CacheStatus());
        Assert.Equal("v2", await refreshed.Body());
    }

    [Fact]
    public async Task StaleWhileRevalidate_PastWindow_Synchronous()
    {
        var origin = new Switchable("max-age=10, stale-while-revalidate=5");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        origin.Version = 2;
        h.Advance(TimeSpan.FromSeconds(30));
        var r = await h.GetAsync("/s");
        Assert.Equal("v2", await r.Body());
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task StaleIfError_Origin5xx_ServesStale(int status)
    {
        var origin = new Switchable("max-age=10, stale-if-error=60");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        origin.FailWith = status;
        h.Advance(TimeSpan.FromSeconds(20));
        var r = await h.GetAsync("/s");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("v1", await r.Body());
        Assert.Contains($"fwd=stale; fwd-status={status}", r.CacheStatus());
        Assert.Contains("detail=stale-if-error", r.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task StaleIfError_OriginDown_ServesStale()
    {
        var origin = new Switchable("max-age=10, stale-if-error=60");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        await h.Origin.StopAsync();
        h.Advance(TimeSpan.FromSeconds(20));
        var r = await h.GetAsync("/s");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("v1", await r.Body());
        Assert.Contains("fwd-status=502", r.CacheStatus());
    }

    [Fact]
    public async Task StaleIfError_PastWindow_ErrorPassesThrough()
    {
        var origin = new Switchable("max-age=10, stale-if-error=5");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        origin.FailWith = 500;
        h.Advance(TimeSpan.FromSeconds(30));
        var r = await h.GetAsync("/s");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
    }

    [Fact]
    public async Task StaleIfError_MustRevalidate_ErrorPassesThrough()
    {
        var origin = new Switchable("max-age=10, stale-if-error=60, must-revalidate");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        origin.FailWith = 500;
        h.Advance(TimeSpan.FromSeconds(20));
        var r = await h.GetAsync("/s");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
    }

    [Fact]
    public async Task StaleIfError_RequestDirective_ServesStale()
    {
        var origin = new Switchable("max-age=10");
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            if (origin.FailWith == 0) ctx.Response.Headers.ETag = "\"e\"";
            return origin.Handle(ctx);
        });
        await h.GetAsync("/s");
        origin.FailWith = 502;
        h.Advance(TimeSpan.FromSeconds(20));
        var r = await h.GetAsync("/s", ("Cache-Control", "stale-if-error=60"));
        Assert.Equal("v1", await r.Body());
    }

    [Fact]
    public async Task StaleWhileRevalidate_MustRevalidate_NotServedStale()
    {
        var origin = new Switchable("max-age=10, stale-while-revalidate=60, must-revalidate");
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/s");
        origin.Version = 2;
        h.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("v2", await (await h.GetAsync("/s")).Body());
    }
}
