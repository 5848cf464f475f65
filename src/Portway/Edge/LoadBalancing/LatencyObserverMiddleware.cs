using Microsoft.AspNetCore.Http;
using Portway.Edge.Health;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Feeds <see cref="PeakEwmaPolicy"/>: measures each forwarded request's time to the response
/// headers (when the response starts) on the destination it went to. Time to headers, not to the
/// end of the body: a long download or a WebSocket that stays open for an hour says nothing about
/// how loaded the server is. A failed attempt counts as at least <see cref="FailureSample"/>:
/// a refused connection fails in microseconds, and recording that would make a dead server look
/// like the fastest one. Runs only for peak_ewma clusters; every other cluster passes straight through.
/// </summary>
internal sealed class LatencyObserverMiddleware(RequestDelegate next, DestinationLatencies latencies)
{
    /// <summary>
    /// One second: far above any healthy latency between an edge and its servers, so the balancer
    /// turns away at once; like any sample it decays (to ~50 ms after 30 s), so the server is tried again.
    /// </summary>
    public static readonly TimeSpan FailureSample = TimeSpan.FromSeconds(1);

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
            ((Observation)state).Record(failed: false);
            return Task.CompletedTask;
        }, observation);
        try
        {
            await next(context);
        }
        finally
        {
            var error = context.Features.Get<IForwarderErrorFeature>();
            observation.Record(failed: error is not null && DestinationFault.Is(error.Error));
        }
    }

    private sealed class Observation(IReverseProxyFeature proxy, DestinationLatencies latencies)
    {
        private readonly long _start = latencies.Time.GetTimestamp();
        private int _recorded;

        public void Record(bool failed)
        {
            if (Interlocked.Exchange(ref _recorded, 1) != 0) return;
            if (proxy.ProxiedDestination is not { } destination) return;
            var now = latencies.Time.GetTimestamp();
            double elapsed = now - _start;
            if (failed) elapsed = Math.Max(elapsed, FailureSample.TotalSeconds * latencies.Time.TimestampFrequency);
            latencies.For(destination).Observe(elapsed, now);
        }
    }
}
