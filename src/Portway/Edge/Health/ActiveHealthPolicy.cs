using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Portway.Edge.Routing;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Health;

/// <summary>
/// Judges YARP's active probes (GET health.active.path every interval) the way HAProxy's
/// http-check does: a probe passes when it answers with a status in health.active.expect
/// (default 200-399); a destination goes down after unhealthy_after failed probes in a row (HAProxy's
/// fall, default 3) and comes back after healthy_after passing probes in a row (rise, default 2).
/// A destination never judged yet (Unknown) takes traffic and becomes Healthy on its first pass.
/// </summary>
internal sealed partial class ActiveHealthPolicy(IDestinationHealthUpdater updater, ILogger<ActiveHealthPolicy> logger) : IActiveHealthCheckPolicy
{
    private readonly ConditionalWeakTable<ClusterModel, ActiveHealthSettings> _settings = new();
    private readonly ConditionalWeakTable<DestinationState, Streak> _streaks = new();

    public string Name => PolicyNames.ActiveHealth;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        if (probingResults.Count == 0) return;
        var settings = _settings.GetValue(cluster.Model, ActiveHealthSettings.From);
        var updates = new NewActiveDestinationHealth[probingResults.Count];
        for (var i = 0; i < probingResults.Count; i++)
        {
            var result = probingResults[i];
            var destination = result.Destination;
            var status = result.Response is null ? 0 : (int)result.Response.StatusCode;
            var passed = status >= settings.ExpectMin && status <= settings.ExpectMax;
            var streak = _streaks.GetValue(destination, static _ => new Streak());
            var previous = destination.Health.Active;
            var next = streak.Next(passed, previous, settings);
            if (next != previous)
            {
                var address = destination.Model.Config.Address;
                if (next == DestinationHealth.Unhealthy)
                    LogDown(cluster.ClusterId, address, settings.UnhealthyAfter, Describe(result, status, settings));
                else if (previous == DestinationHealth.Unhealthy)
                    LogUp(cluster.ClusterId, address, settings.HealthyAfter);
            }
            updates[i] = new NewActiveDestinationHealth(destination, next);
        }
        updater.SetActive(cluster, updates);
    }

    private static string Describe(DestinationProbingResult result, int status, ActiveHealthSettings settings)
    {
        if (result.Response is not null) return $"status {status}, expected {settings.ExpectMin}-{settings.ExpectMax}";
        var e = result.Exception;
        while (e?.InnerException is not null) e = e.InnerException;
        return e?.Message ?? "no response";
    }

    /// <summary>Consecutive passes and failures of one destination's probes. Probes of one cluster run one round at a time.</summary>
    private sealed class Streak
    {
        private int _passes;
        private int _failures;

        public DestinationHealth Next(bool passed, DestinationHealth previous, ActiveHealthSettings settings)
        {
            if (passed)
            {
                _failures = 0;
                _passes++;
                return previous != DestinationHealth.Unhealthy || _passes >= settings.HealthyAfter ? DestinationHealth.Healthy : DestinationHealth.Unhealthy;
            }
            _passes = 0;
            _failures++;
            return _failures >= settings.UnhealthyAfter ? DestinationHealth.Unhealthy : previous;
        }
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Warning, Message = "Cluster '{Cluster}': {Address} is down after {Count} failed health probe(s) ({Reason}); it gets no traffic until it passes again")]
    private partial void LogDown(string cluster, string address, int count, string reason);

    [LoggerMessage(EventId = 321, Level = LogLevel.Information, Message = "Cluster '{Cluster}': {Address} is back up after {Count} passing health probe(s)")]
    private partial void LogUp(string cluster, string address, int count);
}
