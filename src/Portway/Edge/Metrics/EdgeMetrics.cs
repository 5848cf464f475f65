using System.Diagnostics.Metrics;
using Yarp.ReverseProxy;

namespace Portway.Edge.Metrics;

/// <summary>
/// Portway's instruments. Exported in Prometheus format on the admin listener as
/// portway_requests_total, portway_request_duration_seconds and portway_destination_healthy;
/// Kestrel's own meter adds kestrel_active_connections.
/// </summary>
internal sealed class EdgeMetrics : IDisposable
{
    public const string MeterName = "Portway";
    private readonly Meter _meter;

    public EdgeMetrics(IProxyStateLookup proxyState)
    {
        _meter = new Meter(MeterName);
        Requests = _meter.CreateCounter<long>("portway.requests", description: "Requests by route, cluster and status code.");
        Duration = _meter.CreateHistogram<double>("portway.request.duration", unit: "s",
            description: "Time from request received to response completed.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _meter.CreateObservableGauge("portway.destination.healthy", () => ObserveHealth(proxyState),
            description: "1 when the destination takes traffic, 0 when health checks or ejection keep it out.");
    }

    public Counter<long> Requests { get; }
    public Histogram<double> Duration { get; }

    private static IEnumerable<Measurement<int>> ObserveHealth(IProxyStateLookup state)
    {
        foreach (var cluster in state.GetClusters())
        {
            foreach (var (id, destination) in cluster.Destinations)
            {
                var health = destination.Health;
                var down = health.Active == Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy
                    || health.Passive == Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy;
                yield return new Measurement<int>(down ? 0 : 1,
                    new KeyValuePair<string, object?>("cluster", cluster.ClusterId),
                    new KeyValuePair<string, object?>("destination", id),
                    new KeyValuePair<string, object?>("address", destination.Model.Config.Address));
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
