using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Portway.Agent;
using Portway.Tests.Caching;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// cache keys the caching tests leave at their defaults or would not notice if ignored, and
/// tunnels.enabled: each with a value the default cannot pass.
/// </summary>
public sealed class CacheKeysTests
{
    [Fact]
    [CoversKey("cache.heuristic.fraction")]
    public async Task HeuristicFraction_Half_FreshForHalfTheAgeOfLastModified()
    {
        CacheHarness? harness = null;
        await using var h = harness = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.LastModified = HeaderUtilities.FormatDate(harness!.Time.GetUtcNow() - TimeSpan.FromSeconds(1000));
            return ctx.Response.WriteAsync("x");
        }, "heuristic:\n  fraction: 0.5");

        var first = await h.GetAsync("/h");

        // 0.5 × 1000 s; the default fraction (0.1) would give 100.
        Assert.Contains("ttl=500", first.CacheStatus());
    }

    [Fact]
    [CoversKey("cache.lock_timeout")]
    public async Task LockTimeout_Short_FollowerStopsWaitingLongBeforeTheDefault()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            if (Interlocked.Increment(ref calls) == 1) await release.Task;
            ctx.Response.Headers.CacheControl = "max-age=100";
            await ctx.Response.WriteAsync("x");
        }, "lock_timeout: 200ms");
        var leader = h.GetAsync("/c");
        await Wait.UntilAsync(() => h.OriginRequests == 1);

        // The leader is held until the follower is answered; the default lock timeout (5 s) would outlast 3 s.
        using var follower = await h.GetAsync("/c").WaitAsync(TimeSpan.FromSeconds(3));
        release.SetResult();
        (await leader).Dispose();

        Assert.Equal("x", await follower.Body());
    }

    [Fact]
    [CoversKey("cache.tag_headers")]
    public async Task TagHeaders_Custom_PurgeByTagUsesThem()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=100";
            ctx.Response.Headers["X-Tags"] = "product-7, all";
            ctx.Response.Headers["Surrogate-Key"] = "default-header";
            return ctx.Response.WriteAsync("x");
        }, "tag_headers: [X-Tags]");
        await h.GetAsync("/p");

        // Surrogate-Key is a default tag header, not one configured here.
        Assert.Equal(0, h.Cache.Purge(null, "default-header"));
        Assert.Equal(1, h.Cache.Purge(null, "product-7"));
        Assert.False((await h.GetAsync("/p")).IsHit());
    }

    [Fact]
    [CoversKey("tunnels.enabled")]
    public async Task TunnelsEnabled_False_EveryAgentLinkRefused()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("tunnels:\n  enabled: false\n");

        var refused = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "demo")));

        Assert.Equal(Portway.Protocol.LinkErrorCodes.Disabled, refused.Code);
    }
}
