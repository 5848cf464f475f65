namespace Portway.Edge.LoadBalancing;

/// <summary>
/// One destination's peak-sensitive moving average of response latency, as Finagle's PeakEwma
/// balancer keeps it (and Linkerd after it): a sample above the average replaces it at once (a
/// server that gets slow is avoided from its first slow answer), a sample below decays it with
/// weight exp(-elapsed/τ) (recovery is believed gradually). With no samples the average decays to
/// zero, so an avoided server is eventually tried again.
/// </summary>
internal sealed class PeakEwma
{
    /// <summary>τ: Finagle's default decay time (10 seconds) for its PeakEwma balancer.</summary>
    public static readonly TimeSpan DecayTime = TimeSpan.FromSeconds(10);

    /// <summary>Cost of a destination with requests in flight but no latency sample yet: larger than
    /// any real latency (Finagle's "penalty"), so an unmeasured busy destination is not piled on.</summary>
    private const double Penalty = 1e12;

    private readonly Lock _lock = new();
    private readonly double _tauTicks;
    private double _costTicks;
    private long _stamp;

    public PeakEwma(long nowTimestamp, long timestampFrequency)
    {
        _stamp = nowTimestamp;
        _tauTicks = DecayTime.TotalSeconds * timestampFrequency;
    }

    /// <summary>Adds a latency sample, in timestamp ticks.</summary>
    public void Observe(double rttTicks, long now)
    {
        lock (_lock)
        {
            var w = Weight(now);
            _costTicks = rttTicks > _costTicks ? rttTicks : _costTicks * w + rttTicks * (1 - w);
            _stamp = Math.Max(_stamp, now);
        }
    }

    /// <summary>The load score: decayed latency × (requests in flight + 1). Lower is better.</summary>
    public double Load(long now, int inFlight)
    {
        double cost;
        lock (_lock)
        {
            cost = Decay(now);
        }
        if (cost == 0 && inFlight > 0) return Penalty + inFlight;
        return cost * (inFlight + 1);
    }

    private double Decay(long now) => _costTicks * Weight(now);

    private double Weight(long now)
    {
        var elapsed = Math.Max(0, now - _stamp);
        return Math.Exp(-elapsed / _tauTicks);
    }
}
