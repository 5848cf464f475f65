using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Latency estimates per destination, fed by <see cref="LatencyObserverMiddleware"/> and read by
/// <see cref="PeakEwmaPolicy"/>. Keyed weakly so destinations removed by a reload are collected.
/// </summary>
internal sealed class DestinationLatencies(TimeProvider time)
{
    private readonly ConditionalWeakTable<DestinationState, PeakEwma> _estimates = new();

    public TimeProvider Time => time;

    public PeakEwma For(DestinationState destination) =>
        _estimates.GetValue(destination, d => new PeakEwma(time.GetTimestamp(), time.TimestampFrequency));
}
