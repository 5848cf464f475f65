using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Portway.Edge.Health;
using Portway.Tests.Infrastructure;
using Xunit;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Portway.Tests.Health;

/// <summary>What counts as a failure for passive ejection, request by request.</summary>
public sealed class ConsecutiveFailuresPolicyTests
{
    private readonly RecordingUpdater _updater = new();
    private readonly ConsecutiveFailuresPolicy _policy;
    private readonly ClusterState _cluster;
    private readonly DestinationState _destination = new("d0", new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1/" }));

    public ConsecutiveFailuresPolicyTests()
    {
        var settings = TestSettings.Provider(new Portway.Configuration.ClusterConfig
        {
            Id = "app",
            PassiveHealth = new Portway.Configuration.PassiveHealthConfig { ConsecutiveFailures = 3 },
        });
        _policy = new ConsecutiveFailuresPolicy(_updater, settings, NullLogger<ConsecutiveFailuresPolicy>.Instance);
        var config = new ClusterConfig
        {
            ClusterId = "app",
            HealthCheck = new HealthCheckConfig { Passive = new PassiveHealthCheckConfig { Enabled = true, ReactivationPeriod = TimeSpan.FromSeconds(7) } },
        };
        _cluster = new ClusterState("app", new ClusterModel(config, new HttpMessageInvoker(new HttpClientHandler())));
    }

    [Fact]
    public void RequestProxied_ThreeDestinationFailuresInARow_EjectedForTheReactivationPeriod()
    {
        Proxied(status: 503);
        Proxied(status: 502, error: ForwarderError.Request);
        Assert.Null(_updater.Period);
        Proxied(status: 504, error: ForwarderError.RequestTimedOut);

        Assert.Equal(TimeSpan.FromSeconds(7), _updater.Period);
        Assert.Equal(DestinationHealth.Unhealthy, _destination.Health.Passive);
    }

    [Fact]
    public void RequestProxied_SuccessInBetween_StartsCountOver()
    {
        Proxied(status: 500);
        Proxied(status: 500);
        Proxied(status: 404); // the server answered: not a failure
        Proxied(status: 500);
        Proxied(status: 500);

        Assert.Null(_updater.Period);
    }

    [Fact]
    public void RequestProxied_ClientCausedErrors_NeverCount()
    {
        for (var i = 0; i < 10; i++)
        {
            Proxied(status: 400, error: ForwarderError.RequestBodyClient);
            Proxied(status: 502, error: ForwarderError.RequestCanceled);
            Proxied(status: 200, error: ForwarderError.ResponseBodyClient);
        }

        Assert.Null(_updater.Period);
    }

    private void Proxied(int status = 200, ForwarderError? error = null)
    {
        var context = new DefaultHttpContext();
        context.Response.StatusCode = status;
        if (error is { } e) context.Features.Set<IForwarderErrorFeature>(new ErrorFeature(e));
        _policy.RequestProxied(context, _cluster, _destination);
    }

    private sealed class ErrorFeature(ForwarderError error) : IForwarderErrorFeature
    {
        public ForwarderError Error => error;
        public Exception? Exception => null;
    }

    private sealed class RecordingUpdater : IDestinationHealthUpdater
    {
        public TimeSpan? Period { get; private set; }

        public void SetActive(ClusterState cluster, IEnumerable<NewActiveDestinationHealth> newHealthPairs) { }

        public void SetPassive(ClusterState cluster, DestinationState destination, DestinationHealth newHealth, TimeSpan reactivationPeriod)
        {
            destination.Health.Passive = newHealth;
            Period = reactivationPeriod;
        }
    }
}
