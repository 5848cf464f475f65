using Microsoft.Extensions.Time.Testing;
using Portway.Edge.LoadBalancing;
using Xunit;

namespace Portway.Tests.LoadBalancing;

/// <summary>The estimator's arithmetic on a fake clock: peaks taken at once, recovery gradual, idle decay.</summary>
public sealed class PeakEwmaTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Observe_SlowerSample_TakenAtOnce()
    {
        var ewma = New();
        ewma.Observe(Ms(10), Now);
        ewma.Observe(Ms(200), Now);

        Assert.Equal(200, Cost(ewma), precision: 3);
    }

    [Fact]
    public void Observe_FasterSamples_PullTheAverageDownGradually()
    {
        var ewma = New();
        ewma.Observe(Ms(200), Now);
        _time.Advance(TimeSpan.FromSeconds(1));
        ewma.Observe(Ms(10), Now);

        // w = exp(-1s/10s) ≈ 0.905: 200·0.905 + 10·0.095 ≈ 181.9 — still far above 10.
        Assert.InRange(Cost(ewma), 181, 183);
    }

    [Fact]
    public void Load_NoSamplesForAWhile_DecaysTowardZeroSoTheDestinationIsTriedAgain()
    {
        var ewma = New();
        ewma.Observe(Ms(200), Now);
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.InRange(Cost(ewma), 9.9, 10.0); // 200·e^-3
    }

    [Fact]
    public void Load_InFlight_MultipliesAndUnmeasuredBusyDestinationCostsMost()
    {
        var measured = New();
        measured.Observe(Ms(50), Now);
        var unmeasured = New();

        Assert.Equal(3 * measured.Load(Now, 0), measured.Load(Now, 2), precision: 6);
        Assert.Equal(0, unmeasured.Load(Now, 0));
        Assert.True(unmeasured.Load(Now, 1) > measured.Load(Now, 100));
    }

    private PeakEwma New() => new(_time.GetTimestamp(), _time.TimestampFrequency);

    private long Now => _time.GetTimestamp();

    private double Ms(double ms) => ms * _time.TimestampFrequency / 1000;

    private double Cost(PeakEwma ewma) => ewma.Load(Now, 0) * 1000 / _time.TimestampFrequency;
}
