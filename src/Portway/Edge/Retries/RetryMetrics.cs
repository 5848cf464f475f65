using System.Diagnostics;
using System.Diagnostics.Metrics;
using Portway.Edge.Metrics;

namespace Portway.Edge.Retries;

/// <summary>portway_retries_total{cluster, outcome="retried"|"budget_exhausted"} on the admin /metrics.</summary>
internal sealed class RetryMetrics : IDisposable
{
    private readonly Meter _meter = new(EdgeMetrics.MeterName);
    private readonly Counter<long> _retries;

    public RetryMetrics() =>
        _retries = _meter.CreateCounter<long>("portway.retries", description: "Requests retried on another destination after a connection failure, and retries the budget refused.");

    public void Retried(string cluster) => _retries.Add(1, new TagList { { "cluster", cluster }, { "outcome", "retried" } });

    public void BudgetExhausted(string cluster) => _retries.Add(1, new TagList { { "cluster", cluster }, { "outcome", "budget_exhausted" } });

    public void Dispose() => _meter.Dispose();
}
