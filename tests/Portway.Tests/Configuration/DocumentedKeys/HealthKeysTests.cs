using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// clusters[].health.active keys whose values the health tests use but would not notice if ignored
/// (their defaults give the same outcome there): each test here picks a value the default cannot pass.
/// </summary>
public sealed class HealthKeysTests
{
    /// <summary>An origin whose probe path answers with <see cref="ProbeStatus"/> and counts probes by outcome.</summary>
    private sealed class ProbedOrigin : IAsyncDisposable
    {
        private int _failed;
        private int _passed;

        private ProbedOrigin(TestOrigin origin) => Origin = origin;

        public TestOrigin Origin { get; }
        public volatile int ProbeStatus = 200;
        public TimeSpan ProbeDelay { get; init; }
        public int Failed => Volatile.Read(ref _failed);
        public int Passed => Volatile.Read(ref _passed);

        public static async Task<ProbedOrigin> StartAsync(int status = 200, TimeSpan delay = default, string name = "probed")
        {
            ProbedOrigin? self = null;
            var origin = await TestOrigin.StartAsync(name, async ctx =>
            {
                if (ctx.Request.Path != "/healthz") { await ctx.Response.WriteAsync("page"); return; }
                var s = self!;
                if (s.ProbeDelay > TimeSpan.Zero) await Task.Delay(s.ProbeDelay, ctx.RequestAborted);
                var code = s.ProbeStatus;
                if (code is >= 200 and < 300) Interlocked.Increment(ref s._passed);
                else Interlocked.Increment(ref s._failed);
                ctx.Response.StatusCode = code;
            });
            self = new ProbedOrigin(origin) { ProbeStatus = status, ProbeDelay = delay };
            return self;
        }

        public ValueTask DisposeAsync() => Origin.DisposeAsync();
    }

    private static string Health(string settings) => "    health:\n      active:\n        path: /healthz\n" + settings;

    [Fact]
    [CoversKey("clusters[].health.active.interval")]
    public async Task Interval_100ms_ProbesManyTimesWhereTheDefaultWouldProbeOnce()
    {
        await using var origin = await ProbedOrigin.StartAsync();
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([origin.Origin], Health("        interval: 100ms\n")));

        // The default interval is 5 s: within 4 s it would probe once or twice.
        await Wait.UntilAsync(() => origin.Passed >= 8, TimeSpan.FromSeconds(4), "eight probes at 100 ms apart");
    }

    [Fact]
    [CoversKey("clusters[].health.active.timeout")]
    public async Task Timeout_ProbeSlowerThanIt_DestinationTakenOut()
    {
        // Probes take 1 s: within the default 2 s timeout they would pass.
        await using var origin = await ProbedOrigin.StartAsync(delay: TimeSpan.FromSeconds(1));
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([origin.Origin], Health("        interval: 300ms\n        timeout: 200ms\n        unhealthy_after: 1\n")));

        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d0"), because: "a 1 s probe fails a 200 ms timeout");
    }

    [Fact]
    [CoversKey("clusters[].health.active.expect")]
    public async Task Expect_SingleCode_OtherSuccessCodeFails()
    {
        // 204 is inside the default 200-399, so only expect: 200 takes this destination out.
        await using var ok = await ProbedOrigin.StartAsync(200, name: "ok");
        await using var noContent = await ProbedOrigin.StartAsync(204, name: "no-content");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([ok.Origin, noContent.Origin], Health("        interval: 100ms\n        expect: 200\n        unhealthy_after: 1\n")));

        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d1"), because: "204 is not the expected 200");
        Assert.True(Cluster.IsAvailable(edge, "d0"));
        var tally = await Cluster.TallyAsync(edge.Client, 6);
        Assert.Equal(6, tally["ok"]);
    }

    [Fact]
    [CoversKey("clusters[].health.active.unhealthy_after", "clusters[].health.active.healthy_after")]
    public async Task FallAndRise_SixFailuresOut_FivePassesBack()
    {
        await using var origin = await ProbedOrigin.StartAsync(500);
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([origin.Origin], Health("        interval: 100ms\n        unhealthy_after: 6\n        healthy_after: 5\n")));

        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d0"), because: "six failed probes in a row");
        // The defaults (3 and 2) would take it out after three failures and back after two passes.
        Assert.True(origin.Failed >= 6, $"out after {origin.Failed} failed probes");

        origin.ProbeStatus = 200;
        await Wait.UntilAsync(() => Cluster.IsAvailable(edge, "d0"), because: "five passing probes in a row");
        Assert.True(origin.Passed >= 5, $"back after {origin.Passed} passing probes");
    }
}
