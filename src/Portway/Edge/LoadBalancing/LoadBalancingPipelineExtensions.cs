using Microsoft.AspNetCore.Builder;
using Portway.Edge.Retries;

namespace Portway.Edge.LoadBalancing;

internal static class LoadBalancingPipelineExtensions
{
    /// <summary>
    /// The steps between "a route matched" and "forward to one destination", in the order they must run.
    /// </summary>
    public static IReverseProxyApplicationBuilder UsePortwayLoadBalancing(this IReverseProxyApplicationBuilder proxy)
    {
        // Retries first: each new attempt must run the steps below again, starting from the
        // available destinations minus the ones that already failed.
        proxy.UseMiddleware<RetryMiddleware>();
        // Affinity narrows the candidates to a client's sticky destination; if that one just failed it
        // is no longer a candidate and affinity lets the balancer choose (YARP's Redistribute policy).
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        // Passive health sees every attempt's outcome, including the failures a retry hides from the client.
        proxy.UsePassiveHealthChecks();
        // Innermost, right around the forwarder, so peak_ewma measures the destination and nothing else.
        proxy.UseMiddleware<LatencyObserverMiddleware>();
        return proxy;
    }
}
