using System.Collections.Frozen;
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
        FrozenDictionary<string, RouteSettings>.Empty, FrozenDictionary<string, ClusterSettings>.Empty, GeoTable.Empty);

    private readonly FrozenDictionary<string, RouteSettings> _routes;
    private readonly FrozenDictionary<string, ClusterSettings> _clusters;

    private EdgeSettings(FrozenDictionary<string, RouteSettings> routes, FrozenDictionary<string, ClusterSettings> clusters, GeoTable geo)
    {
        _routes = routes;
        _clusters = clusters;
        Geo = geo;
    }

    /// <summary>geo: in force (databases opened, regions compiled); published with the routes that match on it.</summary>
    public GeoTable Geo { get; }

    /// <summary>
    /// The route's settings, or the defaults for a route the config does not list: a tunnel route,
    /// or a route YARP still serves from the previous snapshot while it applies a reload.
    /// </summary>
    public RouteSettings Route(string routeId) => _routes.TryGetValue(routeId, out var settings) ? settings : RouteSettings.Default;

    /// <summary>The cluster's settings, or the defaults for a cluster the config does not list (as for routes).</summary>
    public ClusterSettings Cluster(string clusterId) => _clusters.TryGetValue(clusterId, out var settings) ? settings : ClusterSettings.Default;

    /// <summary>
    /// Builds the settings of <paramref name="config"/>. A cluster whose config equals the one
    /// <paramref name="previous"/> was built from keeps its <see cref="ClusterSettings"/> instance,
    /// so state the policies derive from it survives a reload that did not touch the cluster.
    /// </summary>
    public static EdgeSettings Build(PortwayConfig config, EdgeSettings? previous)
    {
        // Ids compare as YARP compares them (case-insensitively).
        var routes = new Dictionary<string, RouteSettings>(config.Routes.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var r in config.Routes) routes[r.Id] = r.Cache ? Cached : RouteSettings.Default;
        var clusters = new Dictionary<string, ClusterSettings>(config.Clusters.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var c in config.Clusters)
        {
            var old = previous is not null && previous._clusters.TryGetValue(c.Id, out var found) ? found : null;
            clusters[c.Id] = old?.Source == c ? old : ClusterSettings.From(c, old);
        }
        // Databases whose files did not change keep their opened instance (GeoTable.Build).
        var geo = GeoTable.Build(config.Geo, previous?.Geo);
        return new EdgeSettings(routes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), clusters.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), geo);
    }

    private static readonly RouteSettings Cached = new(Cache: true);
}
