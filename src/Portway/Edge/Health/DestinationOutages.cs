using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Health;

/// <summary>
/// Which destinations are down, from real traffic and from probes, and the one place that says so
/// in the log: one warning when a destination goes down, one line when it is back, and in between
/// at most one summary per <see cref="SummaryEvery"/> ("N requests retried, M failed") — never a
/// line per request, because this log is read during the incident.
///
/// A destination whose connection failed before any response byte (refused, reset, closed, connect
/// timeout) is taken out of rotation at once, like nginx's default max_fails=1: with active health
/// it stays out until the probes pass healthy_after times (the usual rule), without it for
/// health.passive.ejection (default <see cref="DefaultEjection"/>, nginx's fail_timeout). The last
/// available destination of a cluster is never taken out: a 503 for everyone is worse than trying it.
/// </summary>
internal sealed partial class DestinationOutages(IDestinationHealthUpdater updater, TimeProvider time, ILogger<DestinationOutages> logger)
{
    /// <summary>nginx's fail_timeout default.</summary>
    public static readonly TimeSpan DefaultEjection = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan SummaryEvery = TimeSpan.FromSeconds(10);

    private readonly ConditionalWeakTable<DestinationState, Outage> _outages = new();
    private int _down;

    /// <summary>True while any destination is down; one volatile read, so the success path stays free.</summary>
    public bool AnyDown => Volatile.Read(ref _down) != 0;

    /// <summary>A request to <paramref name="destination"/> failed in transport: take it out and say so once.</summary>
    public void TransportFailed(ClusterState cluster, DestinationState destination, string reason)
    {
        if (destination.Model.Config.Metadata?.ContainsKey(TunnelMetadata.Destination) == true) return; // links have their own online/offline state
        var ejected = Eject(cluster, destination);
        var outage = _outages.GetValue(destination, static _ => new Outage());
        lock (outage)
        {
            if (outage.Down) return;
            outage.Down = true;
            outage.Since = time.GetTimestamp();
            outage.LastSummary = outage.Since;
            Interlocked.Increment(ref _down);
        }
        if (ejected) LogDown(cluster.ClusterId, destination.Model.Config.Address, reason);
        else LogFailingButLast(cluster.ClusterId, destination.Model.Config.Address, reason);
    }

    /// <summary>A request that failed on <paramref name="destination"/> was sent to another one.</summary>
    public void Retried(ClusterState cluster, DestinationState destination) => Count(cluster, destination, retried: 1, failed: 0);

    /// <summary>A request that failed on <paramref name="destination"/> was answered with an error page.</summary>
    public void Unanswered(ClusterState cluster, DestinationState destination) => Count(cluster, destination, retried: 0, failed: 1);

    /// <summary>A response came from <paramref name="destination"/>: if it was down, it is back.</summary>
    public void Answered(ClusterState cluster, DestinationState destination)
    {
        if (!AnyDown || !_outages.TryGetValue(destination, out var outage)) return;
        Recovered(cluster, destination, outage, "it answers requests again");
    }

    /// <summary>Active probes took the destination out; logs only when traffic had not already.</summary>
    public void ProbesFailed(ClusterState cluster, DestinationState destination, string reason)
    {
        var outage = _outages.GetValue(destination, static _ => new Outage());
        lock (outage)
        {
            if (outage.Down) return;
            outage.Down = true;
            outage.Since = time.GetTimestamp();
            outage.LastSummary = outage.Since;
            Interlocked.Increment(ref _down);
        }
        LogDown(cluster.ClusterId, destination.Model.Config.Address, reason);
    }

    /// <summary>Active probes let the destination back in.</summary>
    public void ProbesPassed(ClusterState cluster, DestinationState destination, int count)
    {
        if (!_outages.TryGetValue(destination, out var outage)) return;
        Recovered(cluster, destination, outage, $"{count} passing health probe(s)");
    }

    private void Recovered(ClusterState cluster, DestinationState destination, Outage outage, string how)
    {
        int retried, failed;
        TimeSpan after;
        lock (outage)
        {
            if (!outage.Down) return;
            outage.Down = false;
            Interlocked.Decrement(ref _down);
            after = time.GetElapsedTime(outage.Since);
            (retried, failed) = (outage.TotalRetried, outage.TotalFailed);
            outage.Reset();
        }
        LogUp(cluster.ClusterId, destination.Model.Config.Address, after.TotalSeconds, how, retried, failed);
    }

    private void Count(ClusterState cluster, DestinationState destination, int retried, int failed)
    {
        var outage = _outages.GetValue(destination, static _ => new Outage());
        int windowRetried, windowFailed;
        double seconds;
        lock (outage)
        {
            outage.Retried += retried;
            outage.Failed += failed;
            outage.TotalRetried += retried;
            outage.TotalFailed += failed;
            var now = time.GetTimestamp();
            var since = time.GetElapsedTime(outage.LastSummary, now);
            if (!outage.Down || since < SummaryEvery) return;
            (windowRetried, windowFailed, seconds) = (outage.Retried, outage.Failed, since.TotalSeconds);
            outage.Retried = outage.Failed = 0;
            outage.LastSummary = now;
        }
        LogSummary(cluster.ClusterId, destination.Model.Config.Address, windowRetried, windowFailed, seconds);
    }

    /// <summary>False when it stays in: it is the cluster's last available destination.</summary>
    private bool Eject(ClusterState cluster, DestinationState destination)
    {
        var available = cluster.DestinationsState.AvailableDestinations;
        var others = 0;
        for (var i = 0; i < available.Count; i++)
        {
            if (!ReferenceEquals(available[i], destination)) others++;
        }
        if (available.Count == others) return true; // already out
        if (others == 0) return false;
        var health = cluster.Model.Config.HealthCheck;
        if (health?.Active?.Enabled == true)
            updater.SetActive(cluster, [new NewActiveDestinationHealth(destination, DestinationHealth.Unhealthy)]);
        else
            updater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, health?.Passive?.ReactivationPeriod ?? DefaultEjection);
        return true;
    }

    private sealed class Outage
    {
        public bool Down;
        public long Since;
        public long LastSummary;
        public int Retried;
        public int Failed;
        public int TotalRetried;
        public int TotalFailed;

        public void Reset() => Retried = Failed = TotalRetried = TotalFailed = 0;
    }

    [LoggerMessage(EventId = EventIds.HealthDestinationDown, Level = LogLevel.Warning, Message = "Cluster '{Cluster}': {Address} is down ({Reason}); it gets no traffic until it is back, idempotent requests go to the other servers")]
    private partial void LogDown(string cluster, string address, string reason);

    [LoggerMessage(EventId = EventIds.HealthFailingButLast, Level = LogLevel.Warning, Message = "Cluster '{Cluster}': {Address} is failing ({Reason}); it stays in rotation because no other server of the cluster is available")]
    private partial void LogFailingButLast(string cluster, string address, string reason);

    [LoggerMessage(EventId = EventIds.HealthDestinationUp, Level = LogLevel.Information, Message = "Cluster '{Cluster}': {Address} is back up after {Seconds:0.0} s ({How}); meanwhile {Retried} request(s) were retried elsewhere, {Failed} answered with an error")]
    private partial void LogUp(string cluster, string address, double seconds, string how, int retried, int failed);

    [LoggerMessage(EventId = EventIds.HealthOutageSummary, Level = LogLevel.Information, Message = "Cluster '{Cluster}': {Address} still down: {Retried} request(s) retried elsewhere, {Failed} failed in the last {Seconds:0} s")]
    private partial void LogSummary(string cluster, string address, int retried, int failed, double seconds);
}
