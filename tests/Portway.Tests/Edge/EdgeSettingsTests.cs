using Microsoft.Extensions.DependencyInjection;
using Portway.Configuration;
using Portway.Edge.Forwarding;
using Portway.Edge.Routing;
using Portway.Edge.Rules;
using Portway.Edge.Settings;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Edge;

/// <summary>
/// Portway's own per-route and per-cluster settings travel typed beside YARP's snapshot, not as
/// strings in YARP metadata: built once per config, looked up by id, swapped with YARP's lists.
/// </summary>
public sealed class EdgeSettingsTests
{
    private static PortwayConfig Config(int attempts = 3, int weight = 5) => ConfigLoader.Parse($$"""
        routes:
          - { id: Cached, cluster: app, cache: true }
          - { id: plain, cluster: app, match: { path_prefix: /p/ } }
        clusters:
          - id: App
            load_balancing: consistent_hash
            hash_on: header:X-User
            retries: { attempts: {{attempts}}, budget_percent: 50, non_idempotent: true }
            health:
              active: { path: /healthz, expect: 200-204, unhealthy_after: 4, healthy_after: 3 }
              passive: { consecutive_failures: 7 }
            destinations:
              - { id: one, url: "http://127.0.0.1:1", weight: {{weight}} }
              - { id: two, url: "http://127.0.0.1:2" }
          - { id: other, destinations: [http://127.0.0.1:3] }
        """, "t.yaml");

    [Fact]
    public void Build_FullCluster_TypedValuesByIdIgnoringCase()
    {
        var settings = EdgeSettings.Build(Config(), previous: null);

        var app = settings.Cluster("app");
        Assert.Equal(new RetrySettings(3, 50, true), app.Retries);
        Assert.Equal(new ActiveHealthSettings(200, 204, 4, 3), app.ActiveHealth);
        Assert.Equal(7, app.PassiveConsecutiveFailures);
        Assert.Equal("header:X-User", app.HashOn);
        Assert.Equal(new DestinationSettings(5, 0), app.Destination("ONE"));
        Assert.Equal(new DestinationSettings(1, 1), app.Destination("two"));
        Assert.True(settings.Route("cached").Cache);
        Assert.False(settings.Route("plain").Cache);
    }

    [Fact]
    public void Build_UnknownIds_Defaults()
    {
        var settings = EdgeSettings.Build(Config(), previous: null);

        Assert.Same(ClusterSettings.Default, settings.Cluster("tunnel-cluster"));
        Assert.Equal(RetrySettings.From(new RetryConfig()), settings.Cluster("x").Retries);
        Assert.Same(DestinationSettings.Default, settings.Cluster("app").Destination("three"));
        Assert.Same(RouteSettings.Default, settings.Route("tunnel-route"));
    }

    /// <summary>Policies key derived state (hash rings, round-robin scores) on the instance: an untouched cluster keeps it.</summary>
    [Fact]
    public void Build_AfterReload_UnchangedClusterKeepsItsInstanceChangedOneDoesNot()
    {
        var first = EdgeSettings.Build(Config(), previous: null);
        var same = EdgeSettings.Build(Config(), first);
        var retried = EdgeSettings.Build(Config(attempts: 4), first);

        Assert.Same(first.Cluster("app"), same.Cluster("app"));
        Assert.NotSame(first.Cluster("app"), retried.Cluster("app"));
        Assert.Equal(4, retried.Cluster("app").Retries.Attempts);
        Assert.Same(first.Cluster("other"), retried.Cluster("other"));
        // A change elsewhere in the cluster keeps the destinations' own settings.
        Assert.Same(first.Cluster("app").Destination("one"), retried.Cluster("app").Destination("one"));
        Assert.NotSame(first.Cluster("app").Destination("one"), EdgeSettings.Build(Config(weight: 6), first).Cluster("app").Destination("one"));
    }

    [Fact]
    public void Map_YarpMetadata_OnlyWhatYarpActsOn()
    {
        var snapshot = ProxyConfigMapper.Map(Config(), previous: null);

        Assert.All(snapshot.Routes, r => Assert.Null(r.Metadata));
        var app = Assert.Single(snapshot.Clusters, c => c.ClusterId == "App");
        Assert.Equal([PortwayHttpClientFactory.ConnectTimeoutKey], app.Metadata!.Keys);
        Assert.All(app.Destinations!.Values, d => Assert.Null(d.Metadata));
    }

    [Fact]
    public void Provider_Update_SettingsSwapWithYarpLists()
    {
        var provider = new PortwayProxyConfigProvider(ProxyConfigMapper.Map(Config(), previous: null), RuleKinds.Detached);
        var before = provider.GetConfig();

        provider.Update(ProxyConfigMapper.Map(Config(attempts: 5), provider.Settings));

        Assert.True(before.ChangeToken.HasChanged);
        var after = Assert.IsType<ProxySnapshot>(provider.GetConfig());
        Assert.Same(after.Settings, provider.Settings);
        Assert.Equal(5, provider.Settings.Cluster("app").Retries.Attempts);
    }

    /// <summary>YARP sees no change when only a Portway setting changes; the reload still puts it in force.</summary>
    [Fact]
    public async Task Reload_OnlyRetriesChanged_NewSettingsInForceAndRequestsServed()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        string Yaml(int attempts) => TestEdge.OneRoute(origin.Url) + $"\n    retries: {{ attempts: {attempts} }}";
        await using var edge = await TestEdge.StartAsync(Yaml(3));
        var provider = edge.Host.Services.GetRequiredService<PortwayProxyConfigProvider>();
        Assert.Equal(3, provider.Settings.Cluster("app").Retries.Attempts);

        await edge.RewriteAsync(Yaml(4));

        await Wait.UntilAsync(() => provider.Settings.Cluster("app").Retries.Attempts == 4, because: "the reload applied");
        Assert.Equal("a", await edge.Client.GetStringAsync("/"));
    }
}
