using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Health;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>circuit_breaker</c>: stops sending requests to servers that keep failing (Polly's and
/// Resilience4j's breaker, by their names). Closed: outcomes count over a sliding window; once
/// <c>min_requests</c> were seen and the failed share reaches <c>error_ratio</c>, it opens and
/// every request gets a 503 page with Retry-After, reaching no server. After <c>open_for</c> it
/// half-opens: <c>half_open_requests</c> probes go through; all succeed → closed, one fails →
/// open again. The state lives in the compiled rule, so it is per place the rule is written: a
/// cluster's list gives one breaker per cluster (shared by every route to it), a route's list
/// one per route.
/// </summary>
internal sealed partial class CircuitBreakerRule : RuleKind<CircuitBreakerRule.Config>
{
    /// <summary>The failures a breaker may count, as docs/policy.md names them.</summary>
    internal static readonly string[] ErrorNames = ["5xx", "timeout", "connect", "reset"];

    private static readonly Meter s_meter = new(Metrics.EdgeMetrics.MeterName);
    private static readonly Counter<long> s_transitions = s_meter.CreateCounter<long>("portway.circuit_breaker.transitions",
        description: "Circuit breaker state changes by cluster and new state (open, half_open, closed).");
    private static readonly Counter<long> s_rejected = s_meter.CreateCounter<long>("portway.circuit_breaker.rejected",
        description: "Requests an open circuit breaker answered with 503 without forwarding them, by cluster.");

    internal sealed record Config(double ErrorRatio, int MinRequests, TimeSpan Window, TimeSpan OpenFor, int HalfOpenRequests,
        EquatableArray<string> Errors) : RuleConfig
    {
        public override string Kind => "circuit_breaker";
    }

    public override string Name => "circuit_breaker";

    public override string[] Keys { get; } = ["error_ratio", "min_requests", "window", "open_for", "half_open_requests", "errors"];

    public override Config? Read(YamlSection rule)
    {
        var errors = ImmutableArray.CreateBuilder<string>();
        var written = rule.StringList("errors");
        foreach (var (text, node) in written)
        {
            if (Array.IndexOf(ErrorNames, text) >= 0) errors.Add(text);
            else rule.Context.Error(node, rule.Join("errors"), $"'{text}' is not a failure the breaker can count; allowed: {string.Join(", ", ErrorNames)}");
        }
        if (rule.Has("errors") && written.Count == 0)
            rule.Error("errors", $"counts nothing; list at least one of: {string.Join(", ", ErrorNames)}");
        // Defaults: Polly's (failure ratio 0.1 is its default; 0.5 is Resilience4j's and a gentler
        // start), a 10 s window (Hystrix's), 30 s open (Polly and Resilience4j use 5 s / 60 s; 30 s
        // gives a restarting server time), 3 probes (a single probe decides on one request's luck).
        return new Config(
            rule.Double("error_ratio", 0.01, 1) ?? 0.5,
            rule.Int("min_requests", 1, 1_000_000) ?? 20,
            rule.Duration("window", TimeSpan.FromSeconds(1)) ?? TimeSpan.FromSeconds(10),
            rule.Duration("open_for", TimeSpan.FromSeconds(1)) ?? TimeSpan.FromSeconds(30),
            rule.Int("half_open_requests", 1, 1000) ?? 3,
            rule.Has("errors") ? errors.ToImmutable() : [.. ErrorNames]);
    }

    public override Rule Compile(Config config, RuleServices services) => new Breaker(config, services);

    private sealed partial class Breaker(Config config, RuleServices services) : Rule(config)
    {
        private static readonly Func<object, Task> s_onStarting = OnStarting;
        private static readonly Func<object, Task> s_onCompleted = OnCompleted;

        public CircuitBreaker State { get; } = new(config);
        private readonly bool _5xx = config.Errors.Contains("5xx");
        private readonly bool _timeout = config.Errors.Contains("timeout");
        private readonly bool _connect = config.Errors.Contains("connect");
        private readonly bool _reset = config.Errors.Contains("reset");

        public override Task? OnRequest(RuleRequest request)
        {
            var context = request.HttpContext;
            var time = services.Time;
            var admission = State.Enter(time, out var retryAfter, out var transition);
            var cluster = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.ClusterId ?? request.RouteId;
            if (transition.To is not null) Changed(request.Logger, cluster, transition);
            if (admission != CircuitBreaker.Admission.Reject)
            {
                // The verdict is taken as the response head goes out: the server's status, or the
                // 502/504 the forwarder filed (IForwarderErrorFeature) after retries ran. Judged
                // before the client sees the answer, the next request finds the breaker updated.
                // A response that never starts (the client left) still frees a probe's slot on completion.
                var pending = new Pending(this, context, request.Logger, time, admission, cluster);
                context.Response.OnStarting(s_onStarting, pending);
                context.Response.OnCompleted(s_onCompleted, pending);
                return null;
            }
            s_rejected.Add(1, new KeyValuePair<string, object?>("cluster", cluster));
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return ErrorPage.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                $"The servers of '{cluster}' are failing, so Portway stopped sending them requests for a while (circuit breaker open).",
                $"Retry after {seconds} s; if this persists, check the servers' logs.");
        }

        private static Task OnStarting(object state)
        {
            var p = (Pending)state;
            p.Report(p.Breaker.Failed(p.Context));
            return Task.CompletedTask;
        }

        private static Task OnCompleted(object state)
        {
            ((Pending)state).Report(null);
            return Task.CompletedTask;
        }

        /// <summary>True for a failure this breaker counts, false for a success, null when the request tells nothing about the servers.</summary>
        public bool? Failed(HttpContext context)
        {
            var error = context.Features.Get<IForwarderErrorFeature>();
            var proxy = context.Features.Get<IReverseProxyFeature>();
            var status = context.Response.StatusCode;
            if (error is null || error.Error == ForwarderError.None)
            {
                if (proxy?.ProxiedDestination is not null) return status >= 500 && _5xx;
                // YARP's 503 when passive or active health left no destination: no server could be reached.
                if (proxy is not null && status == StatusCodes.Status503ServiceUnavailable && proxy.AvailableDestinations.Count == 0) return _connect;
                // Not forwarded (a cache hit, a later rule's answer): nothing learned about the servers.
                return null;
            }
            return error.Error switch
            {
                ForwarderError.NoAvailableDestinations => _connect,
                // routes[].timeout cancels the request; ProxyErrorPageMiddleware answers it with 504.
                ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled when status == StatusCodes.Status504GatewayTimeout => _timeout,
                // The client went away or sent a broken body: says nothing about the servers.
                ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                    or ForwarderError.ResponseBodyClient or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestClient
                    or ForwarderError.UpgradeResponseClient or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled => null,
                _ => FailureCauses.Of(error) switch
                {
                    FailureCause.ConnectTimeout or FailureCause.ResponseTimeout => _timeout,
                    FailureCause.ConnectionRefused or FailureCause.ConnectFailed or FailureCause.Dns or FailureCause.Tls => _connect,
                    _ => _reset,
                },
            };
        }

        public void Changed(ILogger logger, string cluster, CircuitBreaker.Transition t)
        {
            switch (t.To)
            {
                case CircuitBreaker.CircuitState.Open:
                    s_transitions.Add(1, new("cluster", cluster), new("state", "open"));
                    LogOpened(logger, cluster, t.Failed, t.Requests, config.OpenFor.TotalSeconds);
                    break;
                case CircuitBreaker.CircuitState.HalfOpen:
                    s_transitions.Add(1, new("cluster", cluster), new("state", "half_open"));
                    LogHalfOpen(logger, cluster, config.HalfOpenRequests);
                    break;
                case CircuitBreaker.CircuitState.Closed:
                    s_transitions.Add(1, new("cluster", cluster), new("state", "closed"));
                    LogClosed(logger, cluster, t.Requests);
                    break;
            }
        }

        [LoggerMessage(EventId = EventIds.CircuitBreakerOpened, Level = LogLevel.Warning,
            Message = "Circuit breaker for {Cluster} opened: {Failed} of {Requests} requests failed; answering 503 for {Seconds} s")]
        private static partial void LogOpened(ILogger logger, string cluster, int failed, int requests, double seconds);

        [LoggerMessage(EventId = EventIds.CircuitBreakerHalfOpen, Level = LogLevel.Information,
            Message = "Circuit breaker for {Cluster} half-open: letting {Probes} requests through to test the servers")]
        private static partial void LogHalfOpen(ILogger logger, string cluster, int probes);

        [LoggerMessage(EventId = EventIds.CircuitBreakerClosed, Level = LogLevel.Information,
            Message = "Circuit breaker for {Cluster} closed: {Probes} test requests succeeded; forwarding again")]
        private static partial void LogClosed(ILogger logger, string cluster, int probes);
    }

    /// <summary>What the completion callback needs; one per forwarded request on a route with a breaker.</summary>
    private sealed class Pending(Breaker breaker, HttpContext context, ILogger logger, TimeProvider time,
        CircuitBreaker.Admission admission, string cluster)
    {
        public Breaker Breaker { get; } = breaker;
        public HttpContext Context { get; } = context;
        public ILogger Logger { get; } = logger;
        public TimeProvider Time { get; } = time;
        public CircuitBreaker.Admission Admission { get; } = admission;
        public string Cluster { get; } = cluster;
        private int _reported;

        /// <summary>Once per request: the first call decides, a later one (completion after the head went out) does nothing.</summary>
        public void Report(bool? failed)
        {
            if (Interlocked.Exchange(ref _reported, 1) != 0) return;
            var transition = Breaker.State.Report(Time, Admission, failed);
            if (transition.To is not null) Breaker.Changed(Logger, Cluster, transition);
        }
    }
}
