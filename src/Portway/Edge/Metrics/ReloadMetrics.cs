using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Portway.Edge.Metrics;

/// <summary>portway_config_reloads_total{outcome="applied"|"rejected"}: a rejected reload keeps the running config.</summary>
internal sealed class ReloadMetrics : IDisposable
{
    private readonly Meter _meter = new(EdgeMetrics.MeterName);
    private readonly Counter<long> _reloads;

    public ReloadMetrics() =>
        _reloads = _meter.CreateCounter<long>("portway.config.reloads", description: "Config reloads by outcome; a rejected one kept the running config.");

    public void Applied() => _reloads.Add(1, new TagList { { "outcome", "applied" } });

    public void Rejected() => _reloads.Add(1, new TagList { { "outcome", "rejected" } });

    public void Dispose() => _meter.Dispose();
}
