using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portway.Edge.Health;
using Portway.Tests.Infrastructure;
using Xunit;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Portway.Tests.Health;

/// <summary>The log and ejection rules of <see cref="DestinationOutages"/>, event by event on a fake clock.</summary>
public sealed class DestinationOutagesTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly LogCapture _logs = new();
    private readonly RecordingUpdater _updater = new();

    [Fact]
    public void TransportFailed_ManyTimes_OneWarningAndEjectedForTheDefaultPeriod()
    {
        var (outages, cluster, a, _) = Setup(active: false);

        for (var i = 0; i < 100; i++) outages.TransportFailed(cluster, a, "connection refused");

        var warning = Assert.Single(_logs.AtLeast(LogLevel.Warning));
        Assert.Contains("http://127.0.0.1:1/ is down (connection refused)", warning);
        Assert.Equal(DestinationHealth.Unhealthy, a.Health.Passive);
        Assert.Equal(DestinationOutages.DefaultEjection, _updater.LastPeriod);
        Assert.True(outages.AnyDown);
    }

    [Fact]
    public void TransportFailed_ActiveHealthOn_OutUntilProbesPass()
    {
        var (outages, cluster, a, _) = Setup(active: true);

        outages.TransportFailed(cluster, a, "connection closed before any response");
        outages.ProbesFailed(cluster, a, "1 failed health probe(s)"); // the probe agrees: no second line

        Assert.Equal(DestinationHealth.Unhealthy, a.Health.Active);
        Assert.Equal(DestinationHealth.Unknown, a.Health.Passive);
        Assert.Single(_logs.AtLeast(LogLevel.Warning));
        _time.Advance(TimeSpan.FromSeconds(4));
        outages.ProbesPassed(cluster, a, 2);
        Assert.Contains(_logs.Lines, l => l.Level == LogLevel.Information && l.Message.Contains("is back up after 4.0 s (2 passing health probe(s))"));
        Assert.False(outages.AnyDown);
    }

    [Fact]
    public void Retried_WhileDown_OneSummaryPerTenSeconds()
    {
        var (outages, cluster, a, _) = Setup(active: false);
        outages.TransportFailed(cluster, a, "connection refused");

        for (var second = 0; second < 25; second++)
        {
            outages.Retried(cluster, a);
            outages.Retried(cluster, a);
            if (second % 5 == 0) outages.Unanswered(cluster, a);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var summaries = _logs.Lines.Where(l => l.Message.Contains("still down")).Select(l => l.Message).ToList();
        Assert.Equal(2, summaries.Count);
        Assert.Contains("21 request(s) retried elsewhere, 2 failed in the last 10 s", summaries[0]);
        Assert.Contains("20 request(s) retried elsewhere, 2 failed in the last 10 s", summaries[1]);
        outages.Answered(cluster, a);
        Assert.Contains(_logs.Lines, l => l.Message.Contains("is back up after 25.0 s (it answers requests again); meanwhile 50 request(s) were retried elsewhere, 5 answered with an error"));
        Assert.Single(_logs.AtLeast(LogLevel.Warning));
    }

    [Fact]
    public void TransportFailed_LastAvailableDestination_StaysInWithItsOwnWarning()
    {
        var (outages, cluster, a, b) = Setup(active: false);
        outages.TransportFailed(cluster, a, "connection refused");
        Refresh(cluster, a, b);

        outages.TransportFailed(cluster, b, "connection refused");

        Assert.Equal(DestinationHealth.Unknown, b.Health.Passive);
        Assert.Contains(_logs.AtLeast(LogLevel.Warning), l => l.Contains("127.0.0.1:2/ is failing (connection refused); it stays in rotation"));
    }

    [Fact]
    public void Answered_NothingDown_NoLine()
    {
        var (outages, cluster, a, _) = Setup(active: false);
        outages.Answered(cluster, a);
        Assert.Empty(_logs.Lines);
    }

    private (DestinationOutages, ClusterState, DestinationState, DestinationState) Setup(bool active)
    {
        var a = new DestinationState("d0", new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1/" }));
        var b = new DestinationState("d1", new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:2/" }));
        var config = new ClusterConfig
        {
            ClusterId = "app",
            HealthCheck = active ? new HealthCheckConfig { Active = new ActiveHealthCheckConfig { Enabled = true } } : null,
        };
        var cluster = new ClusterState("app", new ClusterModel(config, new HttpMessageInvoker(new HttpClientHandler())));
        cluster.DestinationsState = new ClusterDestinationsState([a, b], [a, b]);
        var outages = new DestinationOutages(_updater, _time, new LoggerFactory([_logs]).CreateLogger<DestinationOutages>());
        return (outages, cluster, a, b);
    }

    /// <summary>What YARP does after a health change: recompute the available destinations.</summary>
    private static void Refresh(ClusterState cluster, params DestinationState[] all)
    {
        var available = all.Where(d => d.Health.Active != DestinationHealth.Unhealthy && d.Health.Passive != DestinationHealth.Unhealthy).ToList();
        cluster.DestinationsState = new ClusterDestinationsState(all, available);
    }

    private sealed class RecordingUpdater : IDestinationHealthUpdater
    {
        public TimeSpan LastPeriod { get; private set; }

        public void SetActive(ClusterState cluster, IEnumerable<NewActiveDestinationHealth> newHealthPairs)
        {
            foreach (var pair in newHealthPairs) pair.Destination.Health.Active = pair.NewActiveHealth;
        }

        public void SetPassive(ClusterState cluster, DestinationState destination, DestinationHealth newHealth, TimeSpan reactivationPeriod)
        {
            destination.Health.Passive = newHealth;
            LastPeriod = reactivationPeriod;
        }
    }
}
