using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.LoadBalancing;

public sealed class LoadBalancingPolicyTests
{
    [Fact]
    public async Task RoundRobin_ThreeOrigins_SplitsEvenly()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], "    load_balancing: round_robin"));

        var tally = await Cluster.TallyAsync(edge.Client, 150);

        Assert.Equal(50, tally["a"]);
        Assert.Equal(50, tally["b"]);
        Assert.Equal(50, tally["c"]);
    }

    [Fact]
    public async Task WeightedRoundRobin_Weights5_1_1_InterleavesLikeNginx()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml(
            [$"url: {a.Url}\n        weight: 5", $"url: {b.Url}\n        weight: 1", $"url: {c.Url}\n        weight: 1"],
            "    load_balancing: weighted_round_robin"));

        var order = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            using var response = await edge.Client.GetAsync("/");
            order.Add(Cluster.OriginOf(response));
        }

        // nginx's smooth weighted round robin on weights 5,1,1 (ngx_http_upstream_round_robin.c).
        Assert.Equal(["a", "a", "b", "a", "c", "a", "a"], order);
    }

    [Fact]
    [CoversKey("clusters[].load_balancing=weighted_round_robin", "clusters[].destinations[].weight")]
    public async Task WeightedRoundRobin_Weights3_2_1_ProportionalAndZeroNeverPicked()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var off = await TestOrigin.StartAsync("off");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml(
            [$"url: {a.Url}\n        weight: 3", $"url: {b.Url}\n        weight: 2", $"url: {c.Url}\n        weight: 1", $"url: {off.Url}\n        weight: 0"],
            "    load_balancing: weighted_round_robin"));

        var tally = await Cluster.TallyAsync(edge.Client, 120);

        Assert.Equal(60, tally["a"]);
        Assert.Equal(40, tally["b"]);
        Assert.Equal(20, tally["c"]);
        Assert.Equal(0, off.Requests);
    }

    [Theory]
    [InlineData("least_requests")]
    [InlineData("power_of_two_choices")]
    [CoversKey("clusters[].load_balancing=least_requests", "clusters[].load_balancing=power_of_two_choices")]
    public async Task LoadAware_OneOriginHoldsRequests_IdleOneGetsTheRest(string policy)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            await gate.Task;
            await ctx.Response.WriteAsync("slow");
        });
        await using var fast = await TestOrigin.StartAsync("fast");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([slow, fast], $"    load_balancing: {policy}"));

        var parked = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 30; i++)
        {
            var before = slow.Requests;
            var task = edge.Client.GetAsync("/");
            // Each request either completes at 'fast' or is held at 'slow': wait for one of the two
            // so the next request sees the in-flight count it is meant to see.
            await Wait.UntilAsync(() => task.IsCompleted || slow.Requests > before);
            if (task.IsCompleted) (await task).Dispose();
            else parked.Add(task);
        }
        gate.SetResult();
        foreach (var response in await Task.WhenAll(parked)) response.Dispose();

        // The first request may land on 'slow' (both idle); after that it always has more in flight.
        Assert.True(slow.Requests <= 1, $"slow got {slow.Requests} of 30");
        Assert.True(fast.Requests >= 29, $"fast got {fast.Requests} of 30");
    }

    [Fact]
    public async Task Random_TwoOrigins_BothGetTraffic()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b], "    load_balancing: random"));

        var tally = await Cluster.TallyAsync(edge.Client, 100);

        // Binomial(100, 0.5): below 20 happens with probability ~1e-9.
        Assert.True(tally.GetValueOrDefault("a") >= 20 && tally.GetValueOrDefault("b") >= 20, $"a={tally.GetValueOrDefault("a")} b={tally.GetValueOrDefault("b")}");
    }

    [Fact]
    [CoversKey("clusters[].load_balancing=peak_ewma")]
    public async Task PeakEwma_OneOriginSlow_AvoidsIt()
    {
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            await Task.Delay(150, ctx.RequestAborted);
            await ctx.Response.WriteAsync("slow");
        });
        await using var fast = await TestOrigin.StartAsync("fast");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([slow, fast], "    load_balancing: peak_ewma"));

        var tally = await Cluster.TallyAsync(edge.Client, 60);

        // Unmeasured destinations cost 0, so each is tried; once 'slow' has answered in 150 ms it
        // costs ~100× more than 'fast' and two-choice picking never prefers it within 10 s of decay.
        Assert.True(tally.GetValueOrDefault("slow") <= 3, $"slow got {tally.GetValueOrDefault("slow")} of 60");
    }

    [Fact]
    public async Task PeakEwma_OneDestinationRefuses_NotMistakenForTheFastestOne()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"], "    load_balancing: peak_ewma", clusterId: "ewma-dead"));

        var tally = await Cluster.TallyAsync(edge.Client, 40);

        // A refusal takes microseconds; were it recorded as latency, the dead port would win every
        // pick and every request would need a retry. Recorded as a 1 s failure, it is tried once.
        Assert.Equal(40, tally["a"]);
        using var admin = new HttpClient { BaseAddress = edge.AdminUrl };
        var metrics = await admin.GetStringAsync("/metrics");
        var retried = System.Text.RegularExpressions.Regex.Match(metrics, "portway_retries_total\\{[^}]*cluster=\"ewma-dead\",outcome=\"retried\"\\} (\\d+)");
        Assert.True(retried.Success, "a retry was counted");
        Assert.InRange(int.Parse(retried.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 2);
    }
}
