using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Latency estimates per destination, fed by <see cref="LatencyObserverMiddleware"/> and read by
/// <see cref="PeakEwmaPolicy"/>. Keyed weakly so destinations removed by a reload are collected.
/// </summary>
internal sealed class DestinationLatencies
{
    private readonly ConditionalWeakTable<DestinationState, PeakEwma> _estimates = new();
    // Created once: a lambda capturing this would allocate a delegate on every lookup (three per request).
    private readonly ConditionalWeakTable<DestinationState, PeakEwma>.CreateValueCallback _create;

    public DestinationLatencies(TimeProvider time)
    {
        Time = time;
        _create = _ => new PeakEwma(Time.GetTimestamp(), Time.TimestampFrequency);
    }

    public TimeProvider Time { get; }

    public PeakEwma For(DestinationState destination) => _estimates.GetValue(destination, _create);
}
