using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// consistent_hash: the same key (client IP, a header or a cookie) always reaches the same
/// destination while it is healthy; see <see cref="HashRing"/> for why only ~1/N of keys move when
/// a destination joins or leaves. The ring is rebuilt only when the cluster's destinations change.
/// </summary>
internal sealed class ConsistentHashPolicy(PortwayProxyConfigProvider config) : ILoadBalancingPolicy
{
    private readonly ConditionalWeakTable<ClusterState, RingHolder> _rings = new();
    // Parsed once per settings instance, which a reload keeps while the cluster's config is unchanged.
    private readonly ConditionalWeakTable<ClusterSettings, HashKey> _keys = new();

    public string Name => PolicyNames.ConsistentHash;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var settings = config.Settings.Cluster(cluster.ClusterId);
        var key = _keys.GetValue(settings, static s => HashKey.Parse(s.HashOn));
        var hash = key.Hash(context);
        if (hash is null)
        {
            // No key at all (no header/cookie and no client address, e.g. a Unix socket): any destination will do.
            return availableDestinations[Random.Shared.Next(availableDestinations.Count)];
        }
        var ring = RingFor(cluster, settings);
        // A destination the ring does not know (a reload racing this request) still gets a stable answer.
        return ring.Find(hash.Value, availableDestinations) ?? availableDestinations[(int)(hash.Value % (ulong)availableDestinations.Count)];
    }

    private HashRing RingFor(ClusterState cluster, ClusterSettings settings)
    {
        var holder = _rings.GetValue(cluster, static _ => new RingHolder());
        var all = cluster.DestinationsState.AllDestinations;
        var ring = holder.Ring;
        if (ring is null || !ring.IsFor(all, settings))
        {
            // Racing rebuilds produce equal rings; the last one written wins.
            ring = HashRing.Build(all, settings);
            holder.Ring = ring;
        }
        return ring;
    }

    private sealed class RingHolder
    {
        public volatile HashRing? Ring;
    }
}
