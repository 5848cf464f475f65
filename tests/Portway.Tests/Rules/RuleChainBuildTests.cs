using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Edge.Settings;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>EdgeSettings.Build's handling of compiled rules: the chain order, reuse of equal rules across reloads, disposal of the rest.</summary>
public sealed class RuleChainBuildTests
{
    private sealed record Tag(string Name) : RuleConfig
    {
        public override string Kind => "tag";
    }

    private sealed class TagRule(Tag tag) : Rule(tag)
    {
        public bool Disposed { get; private set; }
        public override Task? OnRequest(RuleRequest request) => null;
        public override void Dispose() => Disposed = true;
    }

    private sealed class Compiler : IRuleCompiler
    {
        public Rule Compile(RuleConfig config) => new TagRule((Tag)config);
    }

    private static PortwayConfig Config(string routeTag) => new()
    {
        Rules = [new Tag("global")],
        Routes = [new RouteConfig { Id = "web", ClusterId = "app", Rules = [new Tag(routeTag)] }],
        Clusters = [new ClusterConfig { Id = "app", Destinations = [new DestinationConfig("d0", new Uri("http://127.0.0.1:1"))], Rules = [new Tag("cluster")] }],
    };

    private static string[] Names(EdgeSettings settings) =>
        [.. settings.Rules(new Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "web" }).Rules.ToArray().Select(r => ((Tag)r.Config).Name)];

    [Fact]
    public void Build_Reload_EqualRulesKeptChangedOneReplacedAndDisposed()
    {
        var first = EdgeSettings.Build(Config("route"), previous: null, new Compiler());
        Assert.Equal(["global", "route", "cluster"], Names(first));
        // A route the config does not list (a tunnel route) gets the global rules only.
        Assert.Equal(["global"], first.Rules(new Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "tunnel:x" }).Rules.ToArray().Select(r => ((Tag)r.Config).Name));

        var firstRules = first.Rules(new Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "web" }).Rules.ToArray();
        var second = EdgeSettings.Build(Config("route v2"), first, new Compiler());
        var secondRules = second.Rules(new Yarp.ReverseProxy.Configuration.RouteConfig { RouteId = "web" }).Rules.ToArray();

        Assert.Same(firstRules[0], secondRules[0]);
        Assert.NotSame(firstRules[1], secondRules[1]);
        Assert.Same(firstRules[2], secondRules[2]);
        Assert.True(((TagRule)firstRules[1]).Disposed);
        Assert.False(((TagRule)firstRules[0]).Disposed);
        Assert.False(((TagRule)secondRules[1]).Disposed);
    }
}
