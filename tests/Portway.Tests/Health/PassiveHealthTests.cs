using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;
using Yarp.ReverseProxy.Model;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Health;

public sealed class PassiveHealthTests
{
    [Fact]
    [CoversKey("clusters[].health.passive.consecutive_failures", "clusters[].health.passive.ejection")]
    public async Task ConsecutiveFailures_ThreeFiveHundreds_EjectedThenReactivated()
    {
        var broken = new StrongFlag(true);
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b", ctx =>
        {
            ctx.Response.StatusCode = broken.Value ? 500 : 200;
            return ctx.Response.WriteAsync("b");
        });
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b], """
                health:
                  passive:
                    consecutive_failures: 3
                    ejection: 500ms
            """));

        // Round robin alternates, so b's three 500s in a row take six requests; a's successes do not reset b's count.
        await Cluster.TallyAsync(edge.Client, 6);
        Assert.Equal(DestinationHealth.Unhealthy, Cluster.Destination(edge, "d1").Health.Passive);
        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d1"), because: "YARP drops b from the candidates");
        var seenByB = b.Requests;
        var during = await Cluster.TallyAsync(edge.Client, 10);
        Assert.Equal(10, during["a"]);
        Assert.Equal(seenByB, b.Requests);

        broken.Value = false;
        await Wait.UntilAsync(() => Cluster.IsAvailable(edge, "d1"), because: "the 500 ms ejection ends");
        var after = await Cluster.TallyAsync(edge.Client, 10);
        Assert.Equal(5, after["b"]);
    }

    [Fact]
    public async Task ConsecutiveFailures_SuccessBetweenFailures_NeverEjected()
    {
        var count = 0;
        await using var flaky = await TestOrigin.StartAsync("flaky", ctx =>
        {
            // Fails two requests out of three: never three in a row.
            ctx.Response.StatusCode = Interlocked.Increment(ref count) % 3 == 0 ? 200 : 502;
            return ctx.Response.WriteAsync("flaky");
        });
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([flaky], """
                health:
                  passive:
                    consecutive_failures: 3
                    ejection: 10s
            """));

        var tally = await Cluster.TallyAsync(edge.Client, 30);

        Assert.Equal(30, tally["flaky"]);
        Assert.NotEqual(DestinationHealth.Unhealthy, Cluster.Destination(edge, "d0").Health.Passive);
    }

    [Fact]
    public async Task ConsecutiveFailures_ConnectionRefused_CountsAsFailureAnd503Follows()
    {
        var port = Cluster.DeadPort();
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{port}/"], """
                health:
                  passive:
                    consecutive_failures: 2
                    ejection: 10s
            """));

        using var first = await edge.Client.GetAsync("/");
        using var second = await edge.Client.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, first.StatusCode);
        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d0"), because: "two refused connections eject it");
        using var third = await edge.Client.GetAsync("/");

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.Contains("cluster 'app'", await third.Content.ReadAsStringAsync());
    }

    private sealed class StrongFlag(bool value)
    {
        private volatile bool _value = value;

        public bool Value
        {
            get => _value;
            set => _value = value;
        }
    }
}
