using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portway.Edge.Health;
using Portway.Tests.Infrastructure;
using Xunit;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Portway.Tests.Health;

/// <summary>The rise/fall arithmetic of <see cref="ActiveHealthPolicy"/>, probe by probe.</summary>
public sealed class ActiveHealthPolicyTests
{
    [Fact]
    public void ProbingCompleted_FallThree_DownOnlyAfterThirdFailureInARow()
    {
        var (policy, cluster, destination) = Setup(fall: 3, rise: 2);

        Probe(policy, cluster, destination, 200);
        Assert.Equal(DestinationHealth.Healthy, destination.Health.Active);
        Probe(policy, cluster, destination, 500);
        Probe(policy, cluster, destination, null);
        Assert.Equal(DestinationHealth.Healthy, destination.Health.Active);
        Probe(policy, cluster, destination, 200); // a pass breaks the streak
        Probe(policy, cluster, destination, 500);
        Probe(policy, cluster, destination, 500);
        Assert.Equal(DestinationHealth.Healthy, destination.Health.Active);
        Probe(policy, cluster, destination, 503);
        Assert.Equal(DestinationHealth.Unhealthy, destination.Health.Active);
    }

    [Fact]
    public void ProbingCompleted_RiseTwo_BackOnlyAfterSecondPassInARow()
    {
        var (policy, cluster, destination) = Setup(fall: 1, rise: 2);
        Probe(policy, cluster, destination, null);
        Assert.Equal(DestinationHealth.Unhealthy, destination.Health.Active);

        Probe(policy, cluster, destination, 200);
        Assert.Equal(DestinationHealth.Unhealthy, destination.Health.Active);
        Probe(policy, cluster, destination, 500);
        Probe(policy, cluster, destination, 200);
        Assert.Equal(DestinationHealth.Unhealthy, destination.Health.Active);
        Probe(policy, cluster, destination, 399);
        Assert.Equal(DestinationHealth.Healthy, destination.Health.Active);
    }

    [Fact]
    public void ProbingCompleted_StatusRange_InclusiveBounds()
    {
        var (policy, cluster, destination) = Setup(fall: 1, rise: 1, expectMin: 200, expectMax: 204);
        Probe(policy, cluster, destination, 204);
        Assert.Equal(DestinationHealth.Healthy, destination.Health.Active);
        Probe(policy, cluster, destination, 205);
        Assert.Equal(DestinationHealth.Unhealthy, destination.Health.Active);
    }

    private static (ActiveHealthPolicy, ClusterState, DestinationState) Setup(int fall, int rise, int expectMin = 200, int expectMax = 399)
    {
        var destination = new DestinationState("d0", new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1/" }));
        var config = new ClusterConfig { ClusterId = "app" };
        var settings = TestSettings.Provider(new Portway.Configuration.ClusterConfig
        {
            Id = "app",
            ActiveHealth = new Portway.Configuration.ActiveHealthConfig { ExpectMin = expectMin, ExpectMax = expectMax, UnhealthyAfter = fall, HealthyAfter = rise },
        });
        var cluster = new ClusterState("app", new ClusterModel(config, new HttpMessageInvoker(new HttpClientHandler())));
        var updater = new RecordingHealthUpdater();
        return (new ActiveHealthPolicy(updater, new DestinationOutages(updater, TimeProvider.System, NullLogger<DestinationOutages>.Instance), settings), cluster, destination);
    }

    private static void Probe(ActiveHealthPolicy policy, ClusterState cluster, DestinationState destination, int? status)
    {
        using var response = status is null ? null : new HttpResponseMessage((HttpStatusCode)status.Value);
        policy.ProbingCompleted(cluster, [new DestinationProbingResult(destination, response, status is null ? new HttpRequestException("connection refused") : null)]);
    }

    /// <summary>Applies health the way YARP's updater does, without the cluster bookkeeping.</summary>
    private sealed class RecordingHealthUpdater : IDestinationHealthUpdater
    {
        public void SetActive(ClusterState cluster, IEnumerable<NewActiveDestinationHealth> newHealthPairs)
        {
            foreach (var pair in newHealthPairs) pair.Destination.Health.Active = pair.NewActiveHealth;
        }

        public void SetPassive(ClusterState cluster, DestinationState destination, DestinationHealth newHealth, TimeSpan reactivationPeriod) =>
            destination.Health.Passive = newHealth;
    }
}
