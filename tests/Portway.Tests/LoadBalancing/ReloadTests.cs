using Portway.Configuration;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.LoadBalancing;

/// <summary>Policies cache parsed settings per config; a reload must replace them.</summary>
public sealed class ReloadTests
{
    [Fact]
    public async Task WeightedRoundRobin_WeightChangedByReload_NewWeightsApply()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        var yaml = (int wa, int wb) => Cluster.Yaml([$"url: {a.Url}\n        weight: {wa}", $"url: {b.Url}\n        weight: {wb}"], "    load_balancing: weighted_round_robin");
        await using var edge = await TestEdge.StartAsync(yaml(1, 1));
        Assert.Equal(5, (await Cluster.TallyAsync(edge.Client, 10))["b"]);

        edge.Host.Apply(ConfigLoader.Parse(TestEdge.WithTestDefaults(yaml(1, 0)), edge.ConfigPath));
        await Wait.UntilAsync(async () => !(await Cluster.TallyAsync(edge.Client, 4)).ContainsKey("b"), because: "b's weight is now 0");

        Assert.Equal(20, (await Cluster.TallyAsync(edge.Client, 20))["a"]);
    }

    [Fact]
    [CoversKey("clusters[].load_balancing=round_robin")]
    public async Task Policy_ChangedByReload_FirstAvailableThenRoundRobin()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b], "    load_balancing: first_available"));
        Assert.Equal(10, (await Cluster.TallyAsync(edge.Client, 10))["a"]);

        edge.Host.Apply(ConfigLoader.Parse(TestEdge.WithTestDefaults(Cluster.Yaml([a, b], "    load_balancing: round_robin")), edge.ConfigPath));
        await Wait.UntilAsync(async () => (await Cluster.TallyAsync(edge.Client, 4)).ContainsKey("b"), because: "round robin reaches b");

        var tally = await Cluster.TallyAsync(edge.Client, 10);
        Assert.Equal(5, tally["a"]);
        Assert.Equal(5, tally["b"]);
    }
}
