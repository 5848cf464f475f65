using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>security_headers</c>: a preset of response headers browsers act on, each overridable and
/// each turned off with <c>off</c>. A header the response already has is left as the server sent
/// it (a server's own Content-Security-Policy is more specific than a preset). HSTS only over
/// https: browsers ignore it over http (RFC 6797 §8.1), and sending it there teaches nothing.
/// </summary>
internal sealed class SecurityHeadersRule : RuleKind<SecurityHeadersRule.Config>
{
    /// <summary>One year, without includeSubDomains or preload: those bind names the operator may not control.</summary>
    internal const string DefaultHsts = "max-age=31536000";
    /// <summary>The browsers' own default since 2020, written out so older ones follow it too.</summary>
    internal const string DefaultReferrerPolicy = "strict-origin-when-cross-origin";

    internal sealed record Config(string? Hsts, string? ContentTypeOptions, string? ReferrerPolicy, string? FrameOptions, string? FrameAncestors) : RuleConfig
    {
        public override string Kind => "security_headers";
    }

    public override string Name => "security_headers";

    public override string[] Keys { get; } = ["hsts", "content_type_options", "referrer_policy", "frame_options", "frame_ancestors"];

    public override Config? Read(YamlSection rule) => new(
        Value(rule, "hsts", DefaultHsts),
        Value(rule, "content_type_options", "nosniff"),
        Value(rule, "referrer_policy", DefaultReferrerPolicy),
        Value(rule, "frame_options", "DENY"),
        Value(rule, "frame_ancestors", "'none'"));

    /// <summary>The configured value, the preset's when absent, null for <c>off</c>.</summary>
    private static string? Value(YamlSection rule, string key, string preset)
    {
        var value = rule.String(key);
        if (value is null) return preset;
        if (value is "off" or "") return null;
        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            rule.Error(key, "a header value cannot contain line breaks or NUL");
            return null;
        }
        return value;
    }

    public override Rule Compile(Config config, RuleServices services) => new Apply(config);

    private sealed class Apply(Config config) : Rule(config)
    {
        private readonly string? _csp = config.FrameAncestors is null ? null : "frame-ancestors " + config.FrameAncestors;

        public override Task? OnRequest(RuleRequest request) => null;

        public override bool ChangesResponse => true;

        public override void OnResponse(HttpContext context)
        {
            var headers = context.Response.Headers;
            if (config.Hsts is { } hsts && context.Request.IsHttps) SetIfAbsent(headers, "Strict-Transport-Security", hsts);
            if (config.ContentTypeOptions is { } cto) SetIfAbsent(headers, "X-Content-Type-Options", cto);
            if (config.ReferrerPolicy is { } rp) SetIfAbsent(headers, "Referrer-Policy", rp);
            if (config.FrameOptions is { } fo) SetIfAbsent(headers, "X-Frame-Options", fo);
            if (_csp is not null) SetIfAbsent(headers, "Content-Security-Policy", _csp);
        }

        private static void SetIfAbsent(IHeaderDictionary headers, string name, string value)
        {
            if (!headers.ContainsKey(name)) headers[name] = value;
        }
    }
}
