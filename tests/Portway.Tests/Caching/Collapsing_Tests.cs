using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>Request collapsing: N concurrent misses for one key make one origin request.</summary>
public sealed class Collapsing_Tests
{
    [Fact]
    public async Task ConcurrentMisses_OneOriginRequest_AllServed()
    {
        const int n = 20;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            await release.Task;
            ctx.Response.Headers.CacheControl = "max-age=100";
            await ctx.Response.WriteAsync("collapsed");
        });
        var requests = new Task<HttpResponseMessage>[n];
        for (var i = 0; i < n; i++) requests[i] = h.GetAsync("/c");
        // Every follower is parked behind the leader before the origin answers.
        await Wait.UntilAsync(() => h.Cache.Collapser.Waiting == n - 1 && h.OriginRequests == 1, because: "followers waiting on the leader");
        release.SetResult();
        var responses = await Task.WhenAll(requests);
        foreach (var r in responses) Assert.Equal("collapsed", await r.Body());
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task ConcurrentMisses_Unstorable_FollowersGoToOrigin()
    {
        const int n = 5;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            await release.Task;
            ctx.Response.Headers.CacheControl = "no-store";
            await ctx.Response.WriteAsync("private");
        });
        var requests = new Task<HttpResponseMessage>[n];
        for (var i = 0; i < n; i++) requests[i] = h.GetAsync("/c");
        await Wait.UntilAsync(() => h.Cache.Collapser.Waiting == n - 1, because: "followers waiting");
        release.SetResult();
        var responses = await Task.WhenAll(requests);
        foreach (var r in responses) Assert.Equal("private", await r.Body());
        Assert.Equal(n, h.OriginRequests);
    }

    [Fact]
    public async Task ConcurrentMisses_LeaderSlowerThanLockTimeout_FollowersForwardAlone()
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
        var follower = await h.GetAsync("/c");
        Assert.Equal("x", await follower.Body());
        Assert.Contains("fwd=miss", follower.CacheStatus());
        release.SetResult();
        await leader;
    }
}
