using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portway.Edge.AccessLog;
using Portway.Edge.Clients;
using Portway.Edge.ErrorPages;
using Portway.Edge.Metrics;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Observability;

/// <summary>
/// Outermost step of the request path: gives each request an id, and after it completes records
/// one access-log line and the request metrics. Sits first so its duration covers everything else.
/// </summary>
internal sealed class RequestObserverMiddleware(RequestDelegate next, EdgeState state, AccessLogWriter accessLog, EdgeMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        // The client's address first: every later step (access log, rules, rate limits, geo) reads it.
        ClientAddress.Resolve(context, state.Current.Forwarded);
        var headerName = state.Current.Forwarded.RequestIdHeader;
        var request = context.Request;
        var incoming = request.Headers[headerName].ToString();
        // An id from the client is kept when it is short printable ASCII (so it can't inject log lines).
        var requestId = IsUsableId(incoming) ? incoming : RequestIds.Next();
        request.Headers[headerName] = requestId;
        RequestId.Assign(context, headerName, requestId);

        CountingResponseBody? counter = null;
        if (accessLog.Enabled)
        {
            counter = new CountingResponseBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
            context.Features.Set<IHttpResponseBodyFeature>(counter);
        }

        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(start);
            var proxy = context.Features.Get<IReverseProxyFeature>();
            var route = proxy?.Route.Config.RouteId;
            var cluster = proxy?.Cluster?.Config.ClusterId;
            var status = context.Response.StatusCode;
            var tags = new TagList { { "route", route ?? "" }, { "cluster", cluster ?? "" }, { "code", StatusText(status) } };
            metrics.Requests.Add(1, tags);
            metrics.Duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("route", route ?? ""), new KeyValuePair<string, object?>("cluster", cluster ?? ""));
            if (counter is not null)
            {
                accessLog.Enqueue(new AccessLogEntry(
                    DateTimeOffset.UtcNow,
                    ClientAddress.Of(context)?.ToString(),
                    request.Host.Value ?? "",
                    request.Method,
                    request.Path.Value ?? "/",
                    request.QueryString.Value,
                    status,
                    counter.Count,
                    elapsed.TotalMilliseconds,
                    route,
                    proxy?.ProxiedDestination?.Model.Config.Address,
                    requestId,
                    request.Protocol));
            }
        }
    }

    private static bool IsUsableId(string id)
    {
        if (id.Length is 0 or > 128) return false;
        foreach (var c in id)
        {
            if (c is < '!' or > '~') return false;
        }
        return true;
    }

    // Status codes are a small closed set; cache their strings rather than format per request.
    private static readonly string[] StatusStrings = Enumerable.Range(0, 600).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static string StatusText(int status) => (uint)status < StatusStrings.Length ? StatusStrings[status] : status.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
