using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// A compiled <c>rate_limit</c>: one limiter per partition (<see cref="RateLimitKey"/>), created on
/// a partition's first request and dropped by the partitioned limiter once idle. Answers carry
/// Retry-After and the fields of draft-ietf-httpapi-ratelimit-headers-09 (RateLimit-Policy,
/// RateLimit), as structured fields: <c>"token_bucket";q=100;w=60</c> and <c>"token_bucket";r=0;t=30</c>.
/// </summary>
internal sealed class RateLimiterCheck : Rule
{
    private readonly RateLimitRule.Config _config;
    private readonly PartitionedRateLimiter<object> _limiter;
    private readonly RateLimitKey _key;
    private readonly TokenBucketRateLimiterOptions? _tokenBucket;
    private readonly FixedWindowRateLimiterOptions? _fixedWindow;
    private readonly SlidingWindowRateLimiterOptions? _slidingWindow;
    private readonly ConcurrencyLimiterOptions? _concurrency;
    private readonly string _policy;
    private readonly int _periodSeconds;
    private readonly string _keyText;

    public RateLimiterCheck(RateLimitRule.Config config) : base(config)
    {
        _config = config;
        _key = new RateLimitKey(config.Key, config.MissingKey);
        // QueueLimit 0 everywhere: an edge answers 429 at once rather than holding connections open.
        // AutoReplenishment off: the partitioned limiter replenishes every partition from one timer
        // (what RateLimitPartition.GetTokenBucketLimiter and its siblings set up, and why they copy the options).
        Func<object, RateLimiter> create;
        switch (config.Algorithm)
        {
            case "fixed_window":
                _fixedWindow = new() { PermitLimit = config.Requests, Window = config.Per, QueueLimit = 0, AutoReplenishment = false };
                create = _ => new FixedWindowRateLimiter(_fixedWindow);
                break;
            case "sliding_window":
                _slidingWindow = new() { PermitLimit = config.Requests, Window = config.Per, SegmentsPerWindow = config.Segments, QueueLimit = 0, AutoReplenishment = false };
                create = _ => new SlidingWindowRateLimiter(_slidingWindow);
                break;
            case "concurrency":
                _concurrency = new() { PermitLimit = config.Requests, QueueLimit = 0 };
                create = _ => new ConcurrencyLimiter(_concurrency);
                break;
            default:
                _tokenBucket = new()
                {
                    TokenLimit = config.Requests + config.Burst,
                    TokensPerPeriod = config.Requests,
                    ReplenishmentPeriod = config.Per,
                    QueueLimit = 0,
                    AutoReplenishment = false,
                };
                create = _ => new TokenBucketRateLimiter(_tokenBucket);
                break;
        }
        // The partitioner runs per request: a partition (a struct) over one factory built here,
        // where the GetXLimiter helpers would wrap the options factory in a new closure each call.
        Func<object, RateLimitPartition<object>> partition = key => new RateLimitPartition<object>(key, create);
        _limiter = PartitionedRateLimiter.Create<object, object>(partition);
        // The draft's w is whole seconds; a sub-second period is rounded up rather than shown as 0.
        _periodSeconds = (int)Math.Ceiling(config.Per.TotalSeconds);
        _policy = _concurrency is not null
            ? $"\"{config.Algorithm}\";q={config.Requests}"
            : $"\"{config.Algorithm}\";q={config.Requests};w={_periodSeconds}";
        _keyText = string.Join(", ", config.Key);
    }


    public override Task? OnRequest(RuleRequest request)
    {
        var context = request.HttpContext;
        if (!_key.TryGet(request, out var partition))
        {
            if (_config.MissingKey == "allow") return null;
            return ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"This site counts requests by {_keyText}, and this request has none.",
                "Send the request with it (an API key header, a signed-in user), or ask the site's operator which one.");
        }

        var lease = _limiter.AttemptAcquire(partition);
        if (lease.IsAcquired)
        {
            // A concurrency permit is held until the whole response is sent: the rest of the
            // pipeline (forwarding included) runs after this rule returns, so the request's end releases it.
            if (_concurrency is not null) context.Response.RegisterForDispose(lease);
            else lease.Dispose();
            if (_config.Headers) WriteHeaders(context, partition);
            return null;
        }

        var retryAfter = RetryAfterSeconds(lease);
        lease.Dispose();
        var headers = context.Response.Headers;
        headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        headers.Append("RateLimit-Policy", _policy);
        headers.Append("RateLimit", $"\"{_config.Algorithm}\";r=0;t={retryAfter.ToString(CultureInfo.InvariantCulture)}");
        return ErrorPage.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
            _concurrency is not null ? "Too many of your requests are in progress at once on this site." : "You are sending requests faster than this site allows.",
            $"Wait {retryAfter} s and try again.");
    }

    /// <summary>
    /// Seconds to wait: the limiter's own estimate where it gives one (the token bucket: until
    /// its next refill; the fixed window: a whole window, both upper bounds), else the window, and for
    /// concurrency, which frees a permit whenever a request ends, one second.
    /// </summary>
    private int RetryAfterSeconds(RateLimitLease lease)
    {
        if (lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero)
            return Math.Max(1, (int)Math.Ceiling(after.TotalSeconds));
        return _concurrency is not null ? 1 : Math.Max(1, _periodSeconds);
    }

    /// <summary>
    /// On passing responses (headers: true): what is left. t is the most seconds until the full
    /// quota is back: a window's end, or the periods a token bucket needs to refill.
    /// </summary>
    private void WriteHeaders(HttpContext context, object partition)
    {
        var available = _limiter.GetStatistics(partition)?.CurrentAvailablePermits ?? 0;
        var remaining = Math.Max(0L, available);
        var headers = context.Response.Headers;
        headers.Append("RateLimit-Policy", _policy);
        if (_concurrency is not null)
        {
            headers.Append("RateLimit", $"\"{_config.Algorithm}\";r={remaining}");
            return;
        }
        long reset = _periodSeconds;
        if (_tokenBucket is not null)
        {
            var missing = _tokenBucket.TokenLimit - remaining;
            reset = (missing + _config.Requests - 1) / _config.Requests * _periodSeconds;
        }
        headers.Append("RateLimit", $"\"{_config.Algorithm}\";r={remaining};t={reset}");
    }

    public override void Dispose() => _limiter.Dispose();
}
