using Microsoft.AspNetCore.Http;
using Portway.Edge.Routing;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Feeds <see cref="PeakEwmaPolicy"/>: measures each forwarded request's time to the response
/// headers (when the response starts) on the destination it went to. Time to headers, not to the
/// end of the body: a long download or a WebSocket that stays open for an hour says nothing about
/// how loaded the server is. A request that fails before a response is recorded at its failure time.
/// Runs only for peak_ewma clusters; every other cluster passes straight through.
/// </summary>
internal sealed class LatencyObserverMiddleware(RequestDelegate next, DestinationLatencies latencies)
{
    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        if (!string.Equals(proxy.Cluster.Config.LoadBalancingPolicy, PolicyNames.PeakEwma, StringComparison.Ordinal)) return next(context);
        return ObserveAsync(context, proxy);
    }

    private async Task ObserveAsync(HttpContext context, IReverseProxyFeature proxy)
    {
        var observation = new Observation(proxy, latencies);
        context.Response.OnStarting(static state =>
        {
            ((Observation)state).Record();
            return Task.CompletedTask;
        }, observation);
        try
        {
            await next(context);
        }
        finally
        {
            observation.Record();
        }
    }

    private sealed class Observation(IReverseProxyFeature proxy, DestinationLatencies latencies)
    {
        private readonly long _start = latencies.Time.GetTimestamp();
        private int _recorded;

        public void Record()
        {
            if (Interlocked.Exchange(ref _recorded, 1) != 0) return;
            if (proxy.ProxiedDestination is not { } destination) return;
            var now = latencies.Time.GetTimestamp();
            latencies.For(destination).Observe(now - _start, now);
        }
    }
}
