using System.Diagnostics;
using System.Diagnostics.Metrics;
using Portway.Edge.Metrics;

namespace Portway.Edge.Retries;

/// <summary>
/// portway_retries_total{cluster, outcome="retried"|"budget_exhausted"} and
/// portway_upstream_failures_total{cluster, cause, outcome="retried"|"error"} on the admin /metrics.
/// </summary>
internal sealed class RetryMetrics : IDisposable
{
    private readonly Meter _meter = new(EdgeMetrics.MeterName);
    private readonly Counter<long> _retries;
    private readonly Counter<long> _failures;

    public RetryMetrics()
    {
        _retries = _meter.CreateCounter<long>("portway.retries", description: "Requests retried on another destination after a failure before any response byte, and retries the budget refused.");
        _failures = _meter.CreateCounter<long>("portway.upstream.failures",
            description: "Failed forwarding attempts by cause (connection_refused, closed_before_response, response_timeout, ...) and outcome: retried elsewhere, or answered with an error.");
    }

    public void Failed(string cluster, string cause, bool retried) =>
        _failures.Add(1, new TagList { { "cluster", cluster }, { "cause", cause }, { "outcome", retried ? "retried" : "error" } });

    public void Retried(string cluster) => _retries.Add(1, new TagList { { "cluster", cluster }, { "outcome", "retried" } });

    public void BudgetExhausted(string cluster) => _retries.Add(1, new TagList { { "cluster", cluster }, { "outcome", "budget_exhausted" } });

    public void Dispose() => _meter.Dispose();
}
