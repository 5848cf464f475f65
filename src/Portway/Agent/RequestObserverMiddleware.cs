using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>
/// First step of the agent's request path: times each request and hands the result to every
/// <see cref="IRequestObserver"/> (the screen's counters; an inspector later). TCP streams are
/// connections, not requests, and are counted only as open connections.
/// </summary>
internal sealed class RequestObserverMiddleware(RequestDelegate next, AgentStats stats, IEnumerable<IRequestObserver> observers)
{
    private readonly IRequestObserver[] _observers = [.. observers];

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        var started = DateTimeOffset.UtcNow;
        stats.Started();
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            var observed = new ObservedRequest(started, request.Headers[LinkProtocol.StreamTunnelHeader].ToString(), request.Method,
                request.Path.Value + request.QueryString.Value, context.Response.StatusCode, Stopwatch.GetElapsedTime(start),
                request.Headers[LinkProtocol.StreamClientIpHeader].ToString());
            foreach (var o in _observers) o.OnCompleted(observed);
        }
    }
}
