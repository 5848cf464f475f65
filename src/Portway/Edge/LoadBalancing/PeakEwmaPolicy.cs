using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// peak_ewma: picks two destinations at random and sends to the one with the lower
/// latency × (in-flight + 1) (Finagle's and Linkerd's default balancer). Two random choices rather
/// than the global minimum: every edge process agreeing on the single "best" server is how herds
/// form (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing", 2001).
/// </summary>
internal sealed class PeakEwmaPolicy(DestinationLatencies latencies) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.PeakEwma;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var count = availableDestinations.Count;
        if (count == 0) return null;
        if (count == 1) return availableDestinations[0];
        var first = Random.Shared.Next(count);
        var second = Random.Shared.Next(count - 1);
        if (second >= first) second++;
        var a = availableDestinations[first];
        var b = availableDestinations[second];
        var now = latencies.Time.GetTimestamp();
        return latencies.For(a).Load(now, a.ConcurrentRequestCount) <= latencies.For(b).Load(now, b.ConcurrentRequestCount) ? a : b;
    }
}
