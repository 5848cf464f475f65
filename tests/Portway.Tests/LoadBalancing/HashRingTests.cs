using Portway.Edge.LoadBalancing;
using Portway.Edge.Settings;
using Xunit;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Portway.Tests.LoadBalancing;

/// <summary>The ring on its own: shares, movement and walking past unavailable destinations, on 10,000 keys.</summary>
public sealed class HashRingTests
{
    private const int Keys = 10_000;

    [Fact]
    public void StableHash_KnownInputs_SameValuesInEveryProcess()
    {
        // Edges (and restarts) must agree on where a key lives: these values may never change.
        // Computed independently (FNV-1a 64 over UTF-16 code units / bytes, then MurmurHash3 fmix64).
        Assert.Equal(0xa39532c7ab051e8dUL, StableHash.Of("user-42".AsSpan()));
        Assert.Equal(0xe2b8dcd14d0de18aUL, StableHash.Of([127, 0, 0, 1]));
    }

    [Fact]
    public void Find_ThreeEqualDestinations_EachOwnsAboutAThird()
    {
        var all = Destinations("a", "b", "c");
        var ring = HashRing.Build(all, ClusterSettings.Default);

        var shares = Owners(ring, all).GroupBy(d => d.DestinationId).ToDictionary(g => g.Key, g => g.Count());

        // 160 points each keeps every share within about ±20% of the ideal 3,333.
        Assert.All(shares.Values, share => Assert.InRange(share, 2_600, 4_100));
    }

    [Fact]
    public void Find_FourthJoins_OnlyAboutAQuarterMoveAndOnlyToIt()
    {
        var three = Destinations("a", "b", "c");
        var four = three.Append(Destination("d")).ToArray();
        var before = Owners(HashRing.Build(three, ClusterSettings.Default), three);
        var after = Owners(HashRing.Build(four, ClusterSettings.Default), four);

        var moved = 0;
        for (var i = 0; i < Keys; i++)
        {
            if (ReferenceEquals(before[i], after[i])) continue;
            moved++;
            Assert.Equal("d", after[i].DestinationId);
        }
        Assert.InRange(moved, 1_800, 3_200); // ideal 2,500
    }

    [Fact]
    public void Find_OneUnavailable_OnlyItsKeysMoveSpreadOverTheOthers()
    {
        var all = Destinations("a", "b", "c", "d");
        var ring = HashRing.Build(all, ClusterSettings.Default);
        var before = Owners(ring, all);
        var withoutB = all.Where(d => d.DestinationId != "b").ToArray();
        var after = Owners(ring, withoutB);

        var inherited = new Dictionary<string, int>();
        for (var i = 0; i < Keys; i++)
        {
            if (before[i].DestinationId != "b") Assert.Same(before[i], after[i]);
            else inherited[after[i].DestinationId] = inherited.GetValueOrDefault(after[i].DestinationId) + 1;
        }
        // b's keys walk on to the next point, which belongs to any of the other three.
        Assert.Equal(3, inherited.Count);
    }

    [Fact]
    public void Build_WeightTwo_OwnsAboutTwiceTheKeys_WeightZeroNone()
    {
        var all = Destinations("a", "b", "c", "z");
        var shares = Owners(HashRing.Build(all, Weights(("a", 2), ("b", 1), ("c", 1), ("z", 0))), all).GroupBy(d => d.DestinationId).ToDictionary(g => g.Key, g => g.Count());

        Assert.InRange(shares["a"], 4_200, 5_800);
        Assert.False(shares.ContainsKey("z"));
    }

    [Fact]
    public void IsFor_SameDestinationsOtherOrder_TrueButNotAfterConfigOrSettingsChange()
    {
        var all = Destinations("a", "b", "c");
        var ring = HashRing.Build(all, ClusterSettings.Default);

        Assert.True(ring.IsFor([all[2], all[0], all[1]], ClusterSettings.Default));
        Assert.False(ring.IsFor([all[0], all[1]], ClusterSettings.Default));
        Assert.False(ring.IsFor([all[0], all[1], Destination("c")], ClusterSettings.Default));
        // New settings (a reload that changed the cluster, e.g. a weight): rebuilt.
        Assert.False(ring.IsFor(all, Weights(("a", 1), ("b", 1), ("c", 1))));
    }

    private static DestinationState[] Owners(HashRing ring, IReadOnlyList<DestinationState> available)
    {
        var owners = new DestinationState[Keys];
        for (var i = 0; i < Keys; i++) owners[i] = ring.Find(StableHash.Of($"user-{i}".AsSpan()), available)!;
        return owners;
    }

    private static DestinationState[] Destinations(params string[] names) => names.Select(n => Destination(n)).ToArray();

    private static DestinationState Destination(string name) =>
        new(name, new DestinationModel(new DestinationConfig { Address = $"http://{name}.internal:8080/" }));

    private static ClusterSettings Weights(params (string Name, int Weight)[] destinations) =>
        ClusterSettings.From(new Portway.Configuration.ClusterConfig
        {
            Id = "c",
            Destinations = [.. destinations.Select(d => new Portway.Configuration.DestinationConfig(d.Name, new Uri($"http://{d.Name}.internal:8080/"), d.Weight))],
        }, previous: null);
}
