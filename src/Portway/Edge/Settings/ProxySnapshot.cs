using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// One config as YARP and Portway's own middleware see it: YARP's routes and clusters, and the
/// typed <see cref="EdgeSettings"/> built from the same config. Published whole by
/// <see cref="PortwayProxyConfigProvider"/>, so the two never come from different reloads' builds.
/// YARP metadata keeps only what YARP itself acts on: the connect timeout and upstream TLS, because
/// YARP creates a cluster's HTTP client again only when it sees the cluster's config change
/// (<c>Forwarding/PortwayHttpClientFactory</c>), and the tunnel markers of <see cref="TunnelMetadata"/>.
/// </summary>
internal sealed class ProxySnapshot : IProxyConfig
{
    private readonly CancellationTokenSource _changed = new();

    public ProxySnapshot(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters, EdgeSettings settings)
    {
        Routes = routes;
        Clusters = clusters;
        Settings = settings;
        ChangeToken = new CancellationChangeToken(_changed.Token);
    }

    public IReadOnlyList<RouteConfig> Routes { get; }
    public IReadOnlyList<ClusterConfig> Clusters { get; }
    public EdgeSettings Settings { get; }
    public IChangeToken ChangeToken { get; }

    public void SignalChange() => _changed.Cancel();
}
