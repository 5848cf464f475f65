using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;
using Yarp.ReverseProxy.Model;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Health;

public sealed class ActiveHealthTests
{
    private const string FastProbes = """
            health:
              active:
                path: /health
                interval: 100ms
                timeout: 3s
                unhealthy_after: 2
                healthy_after: 2
        """;

    [Fact]
    public async Task ActiveHealth_OriginStopped_DropsOutAndReturnsOnSamePort()
    {
        await using var a = await TestOrigin.StartAsync("a");
        var b = await TestOrigin.StartAsync("b");
        var port = b.Port;
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b], FastProbes));
        await Wait.UntilAsync(() => Cluster.Destination(edge, "d1").Health.Active == DestinationHealth.Healthy, because: "b passes its first probes");

        await b.DisposeAsync();
        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d1"), because: "b fails two probes");
        var during = await Cluster.TallyAsync(edge.Client, 20);
        Assert.Equal(20, during["a"]);

        await using var again = await TestOrigin.StartAsync("b", port: port);
        await Wait.UntilAsync(() => Cluster.IsAvailable(edge, "d1") && Cluster.Destination(edge, "d1").Health.Active == DestinationHealth.Healthy, because: "b passes two probes again");
        var after = await Cluster.TallyAsync(edge.Client, 20);
        Assert.Equal(10, after["a"]);
        Assert.Equal(10, after["b"]);
    }

    [Fact]
    [CoversKey("clusters[].health.active.path")]
    public async Task ActiveHealth_StatusOutsideExpectedRange_MarkedDown()
    {
        await using var ok = await TestOrigin.StartAsync("ok", ctx =>
        {
            if (ctx.Request.Path == "/health") ctx.Response.StatusCode = 204;
            return ctx.Response.WriteAsync(ctx.Request.Path == "/health" ? "" : "ok");
        });
        await using var sick = await TestOrigin.StartAsync("sick", ctx =>
        {
            ctx.Response.StatusCode = ctx.Request.Path == "/health" ? 500 : 200;
            return ctx.Response.WriteAsync("sick");
        });
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([ok, sick], FastProbes + "\n        expect: 200-299"));

        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d1"), because: "500 is outside 200-299");
        Assert.Equal(DestinationHealth.Healthy, Cluster.Destination(edge, "d0").Health.Active);
        var tally = await Cluster.TallyAsync(edge.Client, 10);
        Assert.Equal(10, tally["ok"]);
    }

    [Fact]
    public async Task ActiveHealth_EveryDestinationDown_503PageNamesTheCluster()
    {
        var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a], FastProbes));
        await a.DisposeAsync();
        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d0"), because: "a is gone");

        using var response = await edge.Client.GetAsync("/page");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("No healthy server in cluster 'app'", body);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }
}
