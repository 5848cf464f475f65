using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Smooth weighted round robin, the algorithm of nginx's upstream module (ngx_http_upstream_round_robin.c):
/// every pick adds each candidate's weight to its running score, takes the highest score and
/// subtracts the total from it. Weights 5,1,1 give a a b a c a a — interleaved, never a burst of
/// five a's. Weight 0 (destinations[].weight) means never picked, e.g. to drain a server.
/// </summary>
internal sealed class WeightedRoundRobinPolicy(PortwayProxyConfigProvider config) : ILoadBalancingPolicy
{
    private readonly ConditionalWeakTable<ClusterState, Scores> _clusters = new();

    public string Name => PolicyNames.WeightedRoundRobin;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations) =>
        _clusters.GetValue(cluster, static _ => new Scores()).Pick(availableDestinations, config.Settings.Cluster(cluster.ClusterId));

    /// <summary>Running scores of one cluster's destinations. Picks are serialized: a pick is a few additions.</summary>
    private sealed class Scores
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<DestinationState, Peer> _peers = new(ReferenceEqualityComparer.Instance);

        public DestinationState? Pick(IReadOnlyList<DestinationState> available, ClusterSettings settings)
        {
            lock (_lock)
            {
                // Destinations removed by a reload leave entries behind; drop them all once in a while
                // (scores restart at zero, which only shifts the interleaving).
                if (_peers.Count > 2 * available.Count + 32) _peers.Clear();
                long total = 0;
                Peer? best = null;
                DestinationState? picked = null;
                for (var i = 0; i < available.Count; i++)
                {
                    var destination = available[i];
                    var peer = PeerOf(destination, settings);
                    if (peer.Weight == 0) continue;
                    peer.Current += peer.Weight;
                    total += peer.Weight;
                    // Ties go to the earlier destination in the file, as nginx walks its list in config
                    // order; YARP's candidate list has no defined order.
                    if (best is null || peer.Current > best.Current || (peer.Current == best.Current && peer.Order < best.Order))
                    {
                        best = peer;
                        picked = destination;
                    }
                }
                if (best is null) return null;
                best.Current -= total;
                return picked;
            }
        }

        private Peer PeerOf(DestinationState destination, ClusterSettings cluster)
        {
            var config = destination.Model.Config;
            var settings = cluster.Destination(destination.DestinationId);
            if (!_peers.TryGetValue(destination, out var peer) || !ReferenceEquals(peer.Config, config) || !ReferenceEquals(peer.Settings, settings))
            {
                // New destination or a reloaded one: its score starts over.
                peer = new Peer(config, settings);
                _peers[destination] = peer;
            }
            return peer;
        }
    }

    private sealed class Peer(Yarp.ReverseProxy.Configuration.DestinationConfig config, DestinationSettings settings)
    {
        public Yarp.ReverseProxy.Configuration.DestinationConfig Config { get; } = config;
        public DestinationSettings Settings { get; } = settings;
        public int Order { get; } = settings.Order;
        public int Weight { get; } = settings.Weight;
        public long Current;
    }
}
