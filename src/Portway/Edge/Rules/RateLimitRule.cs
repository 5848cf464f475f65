using System.Collections.Immutable;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>rate_limit</c>: one limiter per key (docs/access.md), with the algorithms of
/// System.Threading.RateLimiting: a token bucket (nginx's limit_req with burst), a fixed or
/// sliding window of <c>requests</c> per <c>per</c>, or at most <c>requests</c> in flight. Over
/// budget: 429 with Retry-After and the IETF RateLimit fields. Limiters live in the compiled rule,
/// which a reload keeps while the rule's config is unchanged.
/// </summary>
internal sealed class RateLimitRule : RuleKind<RateLimitRule.Config>
{
    internal static readonly string[] Algorithms = ["token_bucket", "fixed_window", "sliding_window", "concurrency"];

    /// <summary>What a limiter counts; header:NAME and claim:NAME stand for any header or claim name.</summary>
    internal static readonly string[] KeyNames = ["client_ip", "route", "header:NAME", "claim:NAME", "tunnel_token"];

    internal static readonly string[] MissingKeyModes = ["client_ip", "allow", "deny"];

    /// <summary>
    /// Ten segments: a request leaves the count at most a tenth of the window late, at ten counters
    /// per key; the sliding window ASP.NET Core's samples use (3) is coarser.
    /// </summary>
    internal const int DefaultSegments = 10;

    internal sealed record Config(string Algorithm, int Requests, TimeSpan Per, int Burst, int Segments,
        EquatableArray<string> Key, string MissingKey, bool Headers) : RuleConfig
    {
        public override string Kind => "rate_limit";
    }

    public override string Name => "rate_limit";

    public override string[] Keys { get; } = ["algorithm", "requests", "per", "burst", "segments", "key", "missing_key", "headers"];

    public override Config? Read(YamlSection rl)
    {
        var algorithm = rl.Enum("algorithm", Algorithms) ?? "token_bucket";
        var requests = rl.Int("requests", 1, 10_000_000);
        if (requests is null && !rl.Has("requests"))
        {
            rl.Error("requests", algorithm == "concurrency"
                ? "is required: how many requests may be in flight at once, e.g. requests: 10"
                : "is required: how many requests per period, e.g. requests: 100");
        }
        // A key that does nothing for the chosen algorithm is an error, so nobody believes a burst is set.
        if (algorithm == "concurrency" && rl.Has("per"))
            rl.Error("per", "does not apply to algorithm concurrency (it limits requests in flight, not per period); remove it, or pick token_bucket, fixed_window or sliding_window");
        if (algorithm != "token_bucket" && rl.Has("burst"))
            rl.Error("burst", $"does not apply to algorithm {algorithm}; only token_bucket has a burst (raise requests instead)");
        if (algorithm != "sliding_window" && rl.Has("segments"))
            rl.Error("segments", $"does not apply to algorithm {algorithm}; only sliding_window is divided into segments");

        var keys = ImmutableArray.CreateBuilder<string>();
        var written = rl.StringList("key");
        foreach (var (value, node) in written)
        {
            if (RateLimitKey.IsValid(value)) { if (!keys.Contains(value)) keys.Add(value); }
            else rl.Context.Error(node, rl.Join("key"), $"'{value}' is not allowed; allowed: {string.Join(", ", KeyNames)}, or a list of these");
        }
        if (keys.Count == 0)
        {
            // An empty list would be one limiter for every request: refuse it rather than guess.
            if (rl.Raw("key") is YamlDotNet.RepresentationModel.YamlSequenceNode && written.Count == 0) rl.Error("key", $"names no key; give one of {string.Join(", ", KeyNames)}, or a list of these");
            keys.Add("client_ip");
        }

        return new Config(algorithm, requests ?? 1,
            rl.Duration("per", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(1),
            rl.Int("burst", 0, 10_000_000) ?? 0,
            rl.Int("segments", 2, 1000) ?? DefaultSegments,
            keys.ToImmutable(),
            rl.Enum("missing_key", MissingKeyModes) ?? "client_ip",
            rl.Bool("headers") ?? false);
    }

    public override Rule Compile(Config config, RuleServices services) => new RateLimiterCheck(config);
}
