using Microsoft.Extensions.Primitives;
using Portway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace Portway.Edge.Routing;

/// <summary>
/// Feeds the file's routes and clusters to YARP. <see cref="Update"/> swaps the whole snapshot
/// atomically; YARP applies it between requests, so in-flight and keep-alive requests are untouched.
/// </summary>
internal sealed class PortwayProxyConfigProvider : IProxyConfigProvider
{
    private volatile Snapshot _current;

    public PortwayProxyConfigProvider(PortwayConfig config) => _current = new Snapshot(config);

    public IProxyConfig GetConfig() => _current;

    public void Update(PortwayConfig config)
    {
        var old = _current;
        _current = new Snapshot(config);
        old.SignalChange();
    }

    private sealed class Snapshot : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public Snapshot(PortwayConfig config)
        {
            Routes = ProxyConfigMapper.MapRoutes(config);
            Clusters = ProxyConfigMapper.MapClusters(config);
            ChangeToken = new CancellationChangeToken(_changed.Token);
        }

        public IReadOnlyList<Yarp.ReverseProxy.Configuration.RouteConfig> Routes { get; }
        public IReadOnlyList<Yarp.ReverseProxy.Configuration.ClusterConfig> Clusters { get; }
        public IChangeToken ChangeToken { get; }

        public void SignalChange() => _changed.Cancel();
    }
}
