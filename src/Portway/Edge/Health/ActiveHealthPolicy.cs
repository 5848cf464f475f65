using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Portway.Edge.Settings;
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
internal sealed class ActiveHealthPolicy(IDestinationHealthUpdater updater, DestinationOutages outages, PortwayProxyConfigProvider config) : IActiveHealthCheckPolicy
{
    private readonly ConditionalWeakTable<DestinationState, Streak> _streaks = new();

    public string Name => PolicyNames.ActiveHealth;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        if (probingResults.Count == 0) return;
        var settings = config.Settings.Cluster(cluster.ClusterId).ActiveHealth;
        var updates = new NewActiveDestinationHealth[probingResults.Count];
        for (var i = 0; i < probingResults.Count; i++)
        {
            var result = probingResults[i];
            var destination = result.Destination;
            var status = result.Response is null ? 0 : (int)result.Response.StatusCode;
            var passed = status >= settings.ExpectMin && status <= settings.ExpectMax;
            var streak = _streaks.GetValue(destination, static _ => new Streak());
            var previous = destination.Health.Active;
            // Traffic took it out since the last probe (DestinationOutages): start counting passes afresh.
            if (previous != streak.Last) streak.Restart();
            var next = streak.Next(passed, previous, settings);
            if (next != previous)
            {
                // DestinationOutages logs the state change once, whether probes or traffic saw it first.
                if (next == DestinationHealth.Unhealthy)
                    outages.ProbesFailed(cluster, destination, $"{settings.UnhealthyAfter} failed health probe(s): {Describe(result, status, settings)}");
                else if (previous == DestinationHealth.Unhealthy)
                    outages.ProbesPassed(cluster, destination, settings.HealthyAfter);
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

        /// <summary>What this policy last set; Unknown before the first probe.</summary>
        public DestinationHealth Last { get; private set; }

        public void Restart() => _passes = _failures = 0;

        public DestinationHealth Next(bool passed, DestinationHealth previous, ActiveHealthSettings settings)
        {
            if (passed)
            {
                _failures = 0;
                _passes++;
                return Last = previous != DestinationHealth.Unhealthy || _passes >= settings.HealthyAfter ? DestinationHealth.Healthy : DestinationHealth.Unhealthy;
            }
            _passes = 0;
            _failures++;
            return Last = _failures >= settings.UnhealthyAfter ? DestinationHealth.Unhealthy : previous;
        }
    }

}
