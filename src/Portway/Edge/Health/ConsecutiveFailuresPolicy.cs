using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Health;

/// <summary>
/// Passive outlier ejection (Envoy's consecutive_5xx): health.passive.consecutive_failures
/// failed requests in a row — transport errors or a 5xx from the destination — take it out of
/// the cluster for health.passive.ejection (YARP's ReactivationPeriod); then it takes traffic again
/// and the count starts over. Failures the client caused (it went away, sent a broken body) do not count.
/// </summary>
internal sealed partial class ConsecutiveFailuresPolicy(IDestinationHealthUpdater updater, PortwayProxyConfigProvider config, ILogger<ConsecutiveFailuresPolicy> logger) : IPassiveHealthCheckPolicy
{
    private static readonly PassiveHealthConfig Defaults = new();
    private readonly ConditionalWeakTable<DestinationState, Counter> _failures = new();

    public string Name => PolicyNames.PassiveHealth;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var counter = _failures.GetValue(destination, static _ => new Counter());
        if (!IsFailure(context))
        {
            // Avoid writing the shared counter on every success: only a streak in progress needs resetting.
            if (Volatile.Read(ref counter.Value) != 0) Volatile.Write(ref counter.Value, 0);
            return;
        }
        var threshold = config.Settings.Cluster(cluster.ClusterId).PassiveConsecutiveFailures;
        // Already out (DestinationOutages takes a destination out on its first failed connection): no second ejection, no second log line.
        if (Interlocked.Increment(ref counter.Value) < threshold || destination.Health.Passive == DestinationHealth.Unhealthy
            || destination.Health.Active == DestinationHealth.Unhealthy) return;
        Volatile.Write(ref counter.Value, 0);
        var period = cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? Defaults.Ejection;
        LogEjected(cluster.ClusterId, destination.Model.Config.Address, threshold, period);
        updater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, period);
    }

    private static bool IsFailure(HttpContext context)
    {
        var error = context.Features.Get<IForwarderErrorFeature>();
        return error is not null && error.Error != ForwarderError.None ? DestinationFault.Is(error.Error) : context.Response.StatusCode >= 500;
    }

    private sealed class Counter
    {
        public int Value;
    }

    [LoggerMessage(EventId = EventIds.HealthConsecutiveFailuresEjected, Level = LogLevel.Warning, Message = "Cluster '{Cluster}': {Address} ejected after {Count} failed requests in a row; it gets traffic again in {Period}")]
    private partial void LogEjected(string cluster, string address, int count, TimeSpan period);
}
