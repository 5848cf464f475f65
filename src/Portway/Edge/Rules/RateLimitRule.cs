using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Edge.Clients;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>rate_limit</c>: a token bucket per key: <c>requests</c> tokens every <c>per</c>, holding up
/// to requests + burst, so a quiet client may burst (nginx's limit_req burst) and a busy one is
/// held to the rate. Over budget: 429 with Retry-After. Buckets live in the compiled rule, which a
/// reload keeps while the rule's config is unchanged.
/// </summary>
internal sealed class RateLimitRule : RuleKind<RateLimitRule.Config>
{
    /// <summary>What a bucket counts; header:NAME stands for any header name.</summary>
    internal static readonly string[] KeyNames = ["client_ip", "route", "header:NAME"];

    internal sealed record Config(int Requests, TimeSpan Per, int Burst, string Key) : RuleConfig
    {
        public override string Kind => "rate_limit";
    }

    public override string Name => "rate_limit";

    public override string[] Keys { get; } = ["requests", "per", "burst", "key"];

    public override Config? Read(YamlSection rl)
    {
        var key = rl.String("key") ?? "client_ip";
        if (key != "client_ip" && key != "route" && !(key.StartsWith("header:", StringComparison.Ordinal) && key.Length > 7))
            rl.Error("key", $"'{key}' is not allowed; allowed: client_ip, route, header:NAME");
        var requests = rl.Int("requests", 1, 10_000_000);
        if (requests is null && !rl.Has("requests")) rl.Error("requests", "is required: how many requests per period, e.g. requests: 100");
        return new Config(requests ?? 1, rl.Duration("per", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(1),
            rl.Int("burst", 0, 10_000_000) ?? 0, key);
    }

    public override Rule Compile(Config config) => new Bucket(config);

    private sealed class Bucket : Rule
    {
        private readonly PartitionedRateLimiter<HttpContext> _limiter;

        public Bucket(Config config) : base(config)
        {
            var options = new TokenBucketRateLimiterOptions
            {
                TokenLimit = config.Requests + config.Burst,
                TokensPerPeriod = config.Requests,
                ReplenishmentPeriod = config.Per,
                QueueLimit = 0,
                AutoReplenishment = true,
            };
            // One factory for every partition: a lambda inside the partitioner would be a new closure per request.
            Func<string, TokenBucketRateLimiterOptions> factory = _ => options;
            var key = config.Key;
            var header = key.StartsWith("header:", StringComparison.Ordinal) ? key[7..] : null;
            // The partition key is a string per request (the address or header text): the limiter
            // keys its buckets by value, and the existing token-bucket behaviour is kept as it was.
            _limiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
            {
                var partition = key switch
                {
                    "route" => "",
                    "client_ip" => ClientAddress.Of(ctx)?.ToString() ?? "",
                    _ => ctx.Request.Headers[header!].ToString(),
                };
                return RateLimitPartition.GetTokenBucketLimiter(partition, factory);
            });
        }

        public override Task? OnRequest(HttpContext context, string routeId, ILogger logger)
        {
            using var lease = _limiter.AttemptAcquire(context);
            if (lease.IsAcquired) return null;
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (int)Math.Ceiling(after.TotalSeconds) : 0;
            if (retryAfter > 0) context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            return ErrorPage.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
                "You are sending requests faster than this site allows.",
                retryAfter > 0 ? $"Wait {retryAfter} s and try again." : "Slow down and try again shortly.");
        }

        public override void Dispose() => _limiter.Dispose();
    }
}
