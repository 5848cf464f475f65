using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Portway.Diagnostics;
using Portway.Edge.Health;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Retries;

/// <summary>
/// Retries a request on a different destination when the attempt failed before any response byte
/// came back: the connection was refused, timed out, or closed or reset while the request was being
/// sent or awaited (a kept-alive connection the server dropped as it went down). The client saw
/// nothing, so sending the request elsewhere is what nginx's proxy_next_upstream error timeout does.
/// Only idempotent methods (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE), because a
/// server may have acted on a request whose connection then broke; retries.non_idempotent extends
/// it to every method, but only for failures to connect, where nothing reached the server. A body is
/// replayed only if it was buffered (Content-Length up to <see cref="MaxReplayBody"/>); at most
/// retries.attempts tries in all, and only while the cluster's <see cref="RetryBudget"/> allows.
/// Runs outermost in the proxy pipeline so every attempt goes through affinity, load balancing and
/// passive health again, minus the destinations already tried; every attempt's transport failure
/// goes to <see cref="DestinationOutages"/>, which takes the destination out and logs once.
/// </summary>
internal sealed partial class RetryMiddleware
{
    /// <summary>
    /// Request bodies up to this size are kept in memory so an idempotent request (a PUT) can be sent
    /// again; larger or chunked bodies stream straight through and are not retried once read.
    /// 64 KiB: above typical JSON API bodies, small enough that holding it costs little.
    /// </summary>
    public const int MaxReplayBody = 64 * 1024;

    private readonly RequestDelegate _next;
    private readonly RetryMetrics _metrics;
    private readonly DestinationOutages _outages;
    private readonly ILogger<RetryMiddleware> _logger;
    private readonly PortwayProxyConfigProvider _config;
    private readonly ConditionalWeakTable<ClusterState, RetryBudget> _budgets = new();
    private readonly ConditionalWeakTable<ClusterState, RetryBudget>.CreateValueCallback _newBudget;

    public RetryMiddleware(RequestDelegate next, TimeProvider time, RetryMetrics metrics, DestinationOutages outages, PortwayProxyConfigProvider config, ILogger<RetryMiddleware> logger)
    {
        _next = next;
        _config = config;
        _metrics = metrics;
        _outages = outages;
        _logger = logger;
        _newBudget = _ => new RetryBudget(time);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var cluster = proxy.Route.Cluster;
        if (cluster is null) return _next(context);
        var settings = _config.Settings.Cluster(cluster.ClusterId).Retries;
        var budget = _budgets.GetValue(cluster, _newBudget);
        budget.Deposit();
        var idempotent = IsIdempotent(context.Request.Method);
        if (settings.Attempts <= 1 || (!idempotent && !settings.NonIdempotent)) return ObserveAsync(context, proxy, cluster);
        return InvokeWithRetriesAsync(context, proxy, cluster, settings, budget, idempotent);
    }

    /// <summary>One attempt, no retry: still report a transport failure so the destination is taken out.</summary>
    private async Task ObserveAsync(HttpContext context, IReverseProxyFeature proxy, ClusterState cluster)
    {
        await _next(context);
        if (proxy.ProxiedDestination is not { } destination) return;
        var cause = FailureCauses.Of(context.Features.Get<IForwarderErrorFeature>());
        Report(cluster, destination, cause, retried: false);
    }

    private async Task InvokeWithRetriesAsync(HttpContext context, IReverseProxyFeature proxy, ClusterState cluster, RetrySettings settings, RetryBudget budget, bool idempotent)
    {
        Stream? original = null;
        ReadTrackingStream? tracked = null;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            original = context.Request.Body;
            if (context.Request.ContentLength is > 0 and <= MaxReplayBody)
                context.Request.EnableBuffering(MaxReplayBody, MaxReplayBody); // seekable: replayed on a retry
            else
                context.Request.Body = tracked = new ReadTrackingStream(original);
        }
        // Headers earlier steps set on the response survive a retry; whatever the failed attempt added does not.
        var headers = Snapshot(context.Response.Headers);
        var candidates = proxy.AvailableDestinations;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await _next(context);
                if (proxy.ProxiedDestination is not { } tried) return;
                var cause = FailureCauses.Of(context.Features.Get<IForwarderErrorFeature>());
                var retry = attempt < settings.Attempts && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested
                    && (idempotent ? FailureCauses.BeforeResponse(cause) : FailureCauses.BeforeConnect(cause))
                    && CanReplay(context, tracked);
                var remaining = retry ? Without(candidates, tried) : [];
                if (remaining.Length > 0 && !budget.TryWithdraw(settings.BudgetPercent))
                {
                    _metrics.BudgetExhausted(cluster.ClusterId);
                    if (budget.JustExhausted()) LogBudgetExhausted(cluster.ClusterId, settings.BudgetPercent);
                    remaining = [];
                }
                Report(cluster, tried, cause, retried: remaining.Length > 0);
                if (remaining.Length == 0) return;
                _metrics.Retried(cluster.ClusterId);
                LogRetrying(cluster.ClusterId, tried.Model.Config.Address, FailureCauses.Describe(cause), attempt + 1, settings.Attempts);
                candidates = remaining;
                // A clean slate for the next attempt: YARP set 502/504 and its error feature, and
                // ForwarderMiddleware refuses to run once a status other than 200 is set.
                context.Features.Set<IForwarderErrorFeature>(null);
                context.Response.Clear();
                Restore(context.Response.Headers, headers);
                if (context.Request.Body.CanSeek) context.Request.Body.Position = 0;
                proxy.AvailableDestinations = remaining;
            }
        }
        finally
        {
            if (original is not null) context.Request.Body = original;
        }
    }

    private void Report(ClusterState cluster, DestinationState destination, FailureCause cause, bool retried)
    {
        if (cause == FailureCause.None)
        {
            if (_outages.AnyDown) _outages.Answered(cluster, destination);
            return;
        }
        _metrics.Failed(cluster.ClusterId, FailureCauses.Label(cause), retried);
        if (FailureCauses.BeforeResponse(cause)) _outages.TransportFailed(cluster, destination, FailureCauses.Describe(cause));
        if (retried) _outages.Retried(cluster, destination);
        else _outages.Unanswered(cluster, destination);
    }

    /// <summary>A body not yet read, or one buffered in full, can be sent again.</summary>
    private static bool CanReplay(HttpContext context, ReadTrackingStream? tracked) =>
        tracked is null ? context.Request.Body.CanSeek || context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true : !tracked.ReadStarted;

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

    [LoggerMessage(EventId = EventIds.RetryAttempt, Level = LogLevel.Debug, Message = "Cluster '{Cluster}': {Address}: {Reason}; attempt {Attempt} of {Attempts} goes to another destination")]
    private partial void LogRetrying(string cluster, string address, string reason, int attempt, int attempts);

    [LoggerMessage(EventId = EventIds.RetryBudgetExhausted, Level = LogLevel.Warning, Message = "Cluster '{Cluster}': retry budget exhausted (retries may add {Percent}% of recent requests); failed connections are answered with errors instead of retried until the rate drops")]
    private partial void LogBudgetExhausted(string cluster, double percent);
}
