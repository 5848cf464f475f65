using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Portway.Configuration;
using Portway.Edge.Geo;

namespace Portway.Edge.Settings;

/// <summary>
/// Portway's own per-route and per-cluster settings, typed, built from the validated config beside
/// YARP's route and cluster lists and published with them in one <see cref="ProxySnapshot"/>.
/// Middleware and policies look theirs up by the route or cluster id of the request
/// (<c>IReverseProxyFeature</c>): one dictionary lookup, nothing parsed per request. YARP's
/// metadata carries only what YARP itself acts on (see <see cref="ProxySnapshot"/>).
/// </summary>
internal sealed class EdgeSettings
{
    public static readonly EdgeSettings Empty = new(
        FrozenDictionary<string, RouteSettings>.Empty, FrozenDictionary<string, ClusterSettings>.Empty, RouteSettings.Default,
        FrozenDictionary<string, RuleChain>.Empty, [], GeoTable.Empty, TunnelRules.None);

    private readonly FrozenDictionary<string, RouteSettings> _routes;
    private readonly FrozenDictionary<string, ClusterSettings> _clusters;
    private readonly RouteSettings _unlisted;
    /// <summary>Per tunnel token with rules: the global rules, then the token's.</summary>
    private readonly FrozenDictionary<string, RuleChain> _tokens;
    /// <summary>Compiled rules by where they are written ("global", "route:ID", "cluster:ID"), for reuse by the next build.</summary>
    private readonly Dictionary<string, Rule[]> _rules;
    /// <summary>tunnels.by_name, compiled; a tunnel route's chain is built once per route and snapshot.</summary>
    private readonly TunnelRules _byName;
    private readonly ConditionalWeakTable<Yarp.ReverseProxy.Configuration.RouteConfig, RuleChain> _tunnelChains = [];

    private EdgeSettings(FrozenDictionary<string, RouteSettings> routes, FrozenDictionary<string, ClusterSettings> clusters,
        RouteSettings unlisted, FrozenDictionary<string, RuleChain> tokens, Dictionary<string, Rule[]> rules, GeoTable geo, TunnelRules byName)
    {
        _byName = byName;
        _tokens = tokens;
        _routes = routes;
        _clusters = clusters;
        _unlisted = unlisted;
        _rules = rules;
        Geo = geo;
    }

    /// <summary>geo: in force (databases opened, regions compiled); published with the routes that match on it.</summary>
    public GeoTable Geo { get; }

    /// <summary>
    /// The route's settings, or those of a route the config does not list (a tunnel route, or a
    /// route YARP still serves from the previous snapshot while it applies a reload): no cache,
    /// the global rules only.
    /// </summary>
    public RouteSettings Route(string routeId) => _routes.TryGetValue(routeId, out var settings) ? settings : _unlisted;

    /// <summary>
    /// The rules of a request on <paramref name="route"/>: a listed route's chain; for a tunnel
    /// route, the global rules, its token's (the token is in the route's metadata), then those of
    /// the <c>tunnels.by_name</c> entries its name matches; else the global rules. File routes find
    /// theirs with the first lookup.
    /// </summary>
    public RuleChain Rules(Yarp.ReverseProxy.Configuration.RouteConfig route)
    {
        if (_routes.TryGetValue(route.RouteId, out var settings)) return settings.Rules;
        if (route.Metadata is not { } metadata) return _unlisted.Rules;
        if (!_byName.IsEmpty && metadata.TryGetValue(TunnelMetadata.Name, out var name))
        {
            if (_tunnelChains.TryGetValue(route, out var built)) return built;
            var token = metadata.GetValueOrDefault(TunnelMetadata.Token);
            built = _byName.Chain(name, token);
            _tunnelChains.AddOrUpdate(route, built);
            return built;
        }
        if (_tokens.Count > 0 && metadata.TryGetValue(TunnelMetadata.Token, out var tokenName)
            && _tokens.TryGetValue(tokenName, out var chain)) return chain;
        return _unlisted.Rules;
    }

    /// <summary>The cluster's settings, or the defaults for a cluster the config does not list (as for routes).</summary>
    public ClusterSettings Cluster(string clusterId) => _clusters.TryGetValue(clusterId, out var settings) ? settings : ClusterSettings.Default;

    /// <summary>
    /// Builds the settings of <paramref name="config"/>. A cluster whose config equals the one
    /// <paramref name="previous"/> was built from keeps its <see cref="ClusterSettings"/> instance,
    /// so state the policies derive from it survives a reload that did not touch the cluster; a
    /// rule equal to the one at the same place in <paramref name="previous"/> keeps its instance
    /// (rate-limit buckets survive), and the previous build's rules not kept are disposed.
    /// <paramref name="rules"/> compiles rules; it may be null only for a config without any.
    /// </summary>
    public static EdgeSettings Build(PortwayConfig config, EdgeSettings? previous, IRuleCompiler? rules = null)
    {
        var compiled = new Dictionary<string, Rule[]>(StringComparer.Ordinal);
        var global = Compile("global", config.Rules, previous, rules, compiled);
        var clusterRules = new Dictionary<string, Rule[]>(config.Clusters.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var c in config.Clusters) clusterRules[c.Id] = Compile("cluster:" + c.Id, c.Rules, previous, rules, compiled);

        // Ids compare as YARP compares them (case-insensitively).
        var routes = new Dictionary<string, RouteSettings>(config.Routes.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var r in config.Routes)
        {
            var own = Compile("route:" + r.Id, r.Rules, previous, rules, compiled);
            var chain = Chain(global, own, clusterRules.GetValueOrDefault(r.ClusterId) ?? []);
            routes[r.Id] = !r.Cache && chain.IsEmpty ? RouteSettings.Default : new RouteSettings(r.Cache, chain);
        }
        var clusters = new Dictionary<string, ClusterSettings>(config.Clusters.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var c in config.Clusters)
        {
            var old = previous is not null && previous._clusters.TryGetValue(c.Id, out var found) ? found : null;
            clusters[c.Id] = old?.Source == c ? old : ClusterSettings.From(c, old);
        }
        var tokens = new Dictionary<string, RuleChain>(StringComparer.Ordinal);
        var tokenRules = new Dictionary<string, Rule[]>(StringComparer.Ordinal);
        foreach (var t in config.Tunnels.Tokens)
        {
            if (t.Rules.IsEmpty) continue;
            tokenRules[t.Name] = Compile("token:" + t.Name, t.Rules, previous, rules, compiled);
            tokens[t.Name] = Chain(global, tokenRules[t.Name], []);
        }
        var byName = new List<(EquatableArray<string>, Rule[])>(config.Tunnels.ByName.Length);
        for (var i = 0; i < config.Tunnels.ByName.Length; i++)
        {
            var entry = config.Tunnels.ByName[i];
            byName.Add((entry.Names, Compile("by_name:" + i, entry.Rules, previous, rules, compiled)));
        }
        var unlisted = global.Length == 0 ? RouteSettings.Default : new RouteSettings(false, new RuleChain(global));
        if (previous is not null) DisposeDropped(previous._rules, compiled);
        // Databases whose files did not change keep their opened instance (GeoTable.Build).
        var geo = GeoTable.Build(config.Geo, previous?.Geo);
        return new EdgeSettings(routes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            clusters.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), unlisted, tokens.ToFrozenDictionary(StringComparer.Ordinal), compiled, geo,
            byName.Count == 0 ? TunnelRules.None : new TunnelRules(global, tokenRules, [.. byName]));
    }

    private static Rule[] Compile(string owner, EquatableArray<RuleConfig> configs, EdgeSettings? previous, IRuleCompiler? compiler, Dictionary<string, Rule[]> compiled)
    {
        if (configs.IsEmpty) return [];
        if (compiler is null) throw new InvalidOperationException($"{owner} has rules but no rule compiler was given");
        var old = previous?._rules.GetValueOrDefault(owner);
        var result = new Rule[configs.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = old is not null && i < old.Length && old[i].Config == configs[i] ? old[i] : compiler.Compile(configs[i]);
        }
        compiled[owner] = result;
        return result;
    }

    internal static RuleChain Chain(Rule[] global, Rule[] route, Rule[] cluster)
    {
        if (global.Length + route.Length + cluster.Length == 0) return RuleChain.Empty;
        return new RuleChain([.. global, .. route, .. cluster]);
    }

    /// <summary>
    /// Rules of the previous build that this one did not keep hold timers (rate-limit buckets);
    /// requests still routed by the previous snapshot for a moment may find them disposed, which
    /// the rules tolerate.
    /// </summary>
    private static void DisposeDropped(Dictionary<string, Rule[]> old, Dictionary<string, Rule[]> kept)
    {
        var keptSet = new HashSet<Rule>(ReferenceEqualityComparer.Instance);
        foreach (var list in kept.Values) keptSet.UnionWith(list);
        foreach (var list in old.Values)
        {
            foreach (var rule in list)
            {
                if (!keptSet.Contains(rule)) rule.Dispose();
            }
        }
    }
}
