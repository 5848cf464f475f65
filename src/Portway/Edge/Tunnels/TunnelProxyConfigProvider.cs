using Microsoft.Extensions.Primitives;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Tunnels as YARP config, beside the file's provider (YARP merges providers): one route per
/// reserved name matching NAME.DOMAIN for every tunnel domain, and one cluster per name whose
/// destinations are the online sessions holding it. Load balancing, transforms and the error
/// pages then work for tunnels as for any cluster.
/// </summary>
internal sealed class TunnelProxyConfigProvider : IProxyConfigProvider
{
    private volatile Snapshot _current = new([], []);

    public IProxyConfig GetConfig() => _current;

    public void Update(List<NameEntry> entries, System.Collections.Immutable.ImmutableArray<string> domains, System.Collections.Immutable.ImmutableArray<Portway.Configuration.TunnelTokenConfig> tokens = default)
    {
        var routes = new List<RouteConfig>(entries.Count);
        var clusters = new List<ClusterConfig>(entries.Count);
        foreach (var entry in entries)
        {
            var hosts = new string[domains.Length];
            for (var i = 0; i < hosts.Length; i++) hosts[i] = entry.Name + "." + domains[i];
            var metadata = new Dictionary<string, string> { [TunnelMetadata.Name] = entry.Name };
            if (entry.TokenName is { } tokenName) metadata[TunnelMetadata.Token] = tokenName;
            if (!tokens.IsDefault && tokens.FirstOrDefault(t => t.Name == entry.TokenName) is { HttpsRedirect: false }) metadata[TunnelMetadata.NoHttpsRedirect] = "true";
            routes.Add(new RouteConfig
            {
                RouteId = TunnelMetadata.RouteId(entry.Name),
                ClusterId = TunnelMetadata.ClusterId(entry.Name),
                Order = TunnelMetadata.RouteOrder,
                Match = new RouteMatch { Hosts = hosts, Path = "/{**portway-tunnel-path}" },
                Metadata = metadata,
            });
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
            foreach (var session in entry.Holders)
            {
                if (!session.IsOnline) continue;
                destinations[session.Key] = new DestinationConfig { Address = TunnelConnector.DestinationAddress(session), Metadata = metadata };
            }
            clusters.Add(new ClusterConfig
            {
                ClusterId = TunnelMetadata.ClusterId(entry.Name),
                // Pooled agents share the traffic evenly.
                LoadBalancingPolicy = "RoundRobin",
                Destinations = destinations,
                Metadata = metadata,
                HttpRequest = new ForwarderRequestConfig
                {
                    // The agent is an HTTP/2-only server: prior knowledge, no downgrade.
                    Version = System.Net.HttpVersion.Version20,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    // Idle gaps longer than this end a stream (server-sent events, WebSockets);
                    // an hour, as tunnels often carry long-lived developer connections.
                    ActivityTimeout = TimeSpan.FromHours(1),
                },
            });
        }
        var old = _current;
        _current = new Snapshot(routes, clusters);
        old.SignalChange();
    }

    private sealed class Snapshot(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public IReadOnlyList<RouteConfig> Routes { get; } = routes;
        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;
        public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

        public void SignalChange() => _changed.Cancel();
    }
}
