using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Retries;

/// <summary>
/// Retries a request on a different destination when the connection to the first one failed
/// (refused, reset during connect, connect timeout): nothing reached that server, so sending the
/// request elsewhere cannot make it happen twice. Only idempotent methods (RFC 9110 §9.2.2: GET,
/// HEAD, OPTIONS, TRACE, PUT, DELETE) unless retries.non_idempotent is set; never once any of the
/// request body was read; at most retries.attempts tries in all; and only while the cluster's
/// <see cref="RetryBudget"/> allows. Runs outermost in the proxy pipeline so every attempt goes
/// through affinity, load balancing and passive health again, minus the destinations already tried.
/// </summary>
internal sealed partial class RetryMiddleware
{
    private readonly RequestDelegate _next;
    private readonly RetryMetrics _metrics;
    private readonly ILogger<RetryMiddleware> _logger;
    private readonly ConditionalWeakTable<ClusterModel, RetrySettings> _settings = new();
    private readonly ConditionalWeakTable<ClusterState, RetryBudget> _budgets = new();
    private readonly ConditionalWeakTable<ClusterState, RetryBudget>.CreateValueCallback _newBudget;

    public RetryMiddleware(RequestDelegate next, TimeProvider time, RetryMetrics metrics, ILogger<RetryMiddleware> logger)
    {
        _next = next;
        _metrics = metrics;
        _logger = logger;
        _newBudget = _ => new RetryBudget(time);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var cluster = proxy.Route.Cluster;
        if (cluster is null) return _next(context);
        var settings = _settings.GetValue(cluster.Model, RetrySettings.From);
        if (settings.Attempts <= 1) return _next(context);
        var budget = _budgets.GetValue(cluster, _newBudget);
        budget.Deposit();
        if (!settings.NonIdempotent && !IsIdempotent(context.Request.Method)) return _next(context);
        return InvokeWithRetriesAsync(context, proxy, cluster, settings, budget);
    }

    private async Task InvokeWithRetriesAsync(HttpContext context, IReverseProxyFeature proxy, ClusterState cluster, RetrySettings settings, RetryBudget budget)
    {
        ReadTrackingStream? body = null;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            body = new ReadTrackingStream(context.Request.Body);
            context.Request.Body = body;
        }
        // Headers earlier steps set on the response survive a retry; whatever the failed attempt added does not.
        var headers = Snapshot(context.Response.Headers);
        var candidates = proxy.AvailableDestinations;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await _next(context);
                if (attempt >= settings.Attempts || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested) return;
                if (context.Features.Get<IForwarderErrorFeature>() is not { } error || !ConnectFailure.Is(error)) return;
                if (body is { ReadStarted: true } || proxy.ProxiedDestination is not { } failed) return;
                var remaining = Without(candidates, failed);
                if (remaining.Length == 0) return;
                if (!budget.TryWithdraw(settings.BudgetPercent))
                {
                    _metrics.BudgetExhausted(cluster.ClusterId);
                    if (budget.JustExhausted()) LogBudgetExhausted(cluster.ClusterId, settings.BudgetPercent);
                    return;
                }
                _metrics.Retried(cluster.ClusterId);
                LogRetrying(cluster.ClusterId, failed.Model.Config.Address, attempt + 1, settings.Attempts);
                candidates = remaining;
                // A clean slate for the next attempt: YARP set 502/504 and its error feature, and
                // ForwarderMiddleware refuses to run once a status other than 200 is set.
                context.Features.Set<IForwarderErrorFeature>(null);
                context.Response.Clear();
                Restore(context.Response.Headers, headers);
                proxy.AvailableDestinations = remaining;
            }
        }
        finally
        {
            if (body is not null) context.Request.Body = body.Inner;
        }
    }

    /// <summary>RFC 9110 §9.2.2: the safe methods plus PUT and DELETE.</summary>
    private static bool IsIdempotent(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
        || HttpMethods.IsTrace(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method);

    private static DestinationState[] Without(IReadOnlyList<DestinationState> candidates, DestinationState failed)
    {
        var count = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!ReferenceEquals(candidates[i], failed)) count++;
        }
        var result = new DestinationState[count];
        var j = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!ReferenceEquals(candidates[i], failed)) result[j++] = candidates[i];
        }
        return result;
    }

    private static KeyValuePair<string, StringValues>[]? Snapshot(IHeaderDictionary headers)
    {
        if (headers.Count == 0) return null;
        var copy = new KeyValuePair<string, StringValues>[headers.Count];
        var i = 0;
        foreach (var header in headers) copy[i++] = header;
        return copy;
    }

    private static void Restore(IHeaderDictionary headers, KeyValuePair<string, StringValues>[]? snapshot)
    {
        if (snapshot is null) return;
        foreach (var (name, value) in snapshot) headers[name] = value;
    }

    [LoggerMessage(EventId = 340, Level = LogLevel.Debug, Message = "Cluster '{Cluster}': could not connect to {Address}; attempt {Attempt} of {Attempts} goes to another destination")]
    private partial void LogRetrying(string cluster, string address, int attempt, int attempts);

    [LoggerMessage(EventId = 341, Level = LogLevel.Warning, Message = "Cluster '{Cluster}': retry budget exhausted (retries may add {Percent}% of recent requests); failed connections are answered with errors instead of retried until the rate drops")]
    private partial void LogBudgetExhausted(string cluster, double percent);
}
