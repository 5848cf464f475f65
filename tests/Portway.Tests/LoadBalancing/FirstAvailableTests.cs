using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.LoadBalancing;

public sealed class FirstAvailableTests
{
    [Fact]
    [CoversKey("clusters[].load_balancing=first_available")]
    public async Task FirstAvailable_AllHealthy_SticksToFirstInFileOrder()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], "    load_balancing: first_available"));

        var tally = await Cluster.TallyAsync(edge.Client, 30);

        Assert.Equal(30, tally["a"]);
    }

    [Fact]
    public async Task FirstAvailable_FirstStops_FailsOverToSecondThenReturns()
    {
        var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        var port = a.Port;
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], """
                load_balancing: first_available
                health:
                  passive:
                    consecutive_failures: 1
                    ejection: 300ms
            """));
        Assert.Equal(10, (await Cluster.TallyAsync(edge.Client, 10))["a"]);

        await a.DisposeAsync();
        // The failed connection is retried on the next destination in order, so no client sees an error,
        // and the passive check takes 'a' out.
        var during = await Cluster.TallyAsync(edge.Client, 10);
        Assert.Equal(10, during["b"]);

        await using var again = await TestOrigin.StartAsync("a", port: port);
        await Wait.UntilAsync(async () => (await Cluster.TallyAsync(edge.Client, 1)).ContainsKey("a"), because: "'a' is reactivated after its ejection");
        Assert.Equal(10, (await Cluster.TallyAsync(edge.Client, 10))["a"]);
    }
}
