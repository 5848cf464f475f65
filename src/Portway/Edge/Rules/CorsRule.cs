using System.Collections.Immutable;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Portway.Configuration;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>cors</c>: the edge answers preflights itself (204 with the Access-Control-Allow-* headers;
/// nothing reaches the server) and adds the CORS headers to actual responses, replacing any the
/// server sent. The decision is ASP.NET Core's <see cref="CorsService"/> over a
/// <see cref="CorsPolicy"/> built once per rule: both are plain objects, so a per-route policy
/// needs no named-policy registration in DI and reloads with the rule.
/// </summary>
internal sealed class CorsRule : RuleKind<CorsRule.Config>
{
    internal sealed record Config(EquatableArray<string> Origins, EquatableArray<string> Methods, EquatableArray<string> Headers,
        EquatableArray<string> ExposeHeaders, bool Credentials, TimeSpan? MaxAge) : RuleConfig
    {
        public override string Kind => "cors";
    }

    public override string Name => "cors";

    public override string[] Keys { get; } = ["origins", "methods", "headers", "expose_headers", "credentials", "max_age"];

    public override Config? Read(YamlSection rule)
    {
        var origins = ImmutableArray.CreateBuilder<string>();
        foreach (var (origin, node) in rule.StringList("origins"))
        {
            if (origin == "*" || IsOrigin(origin)) origins.Add(origin.ToLowerInvariant());
            else rule.Context.Error(node, rule.Join("origins"), $"'{origin}' is not an origin; write scheme://host[:port] without a path, e.g. https://app.example.com, https://*.example.com, or *");
        }
        if (!rule.Has("origins")) rule.Error("origins", "is required: the origins allowed to call this route, e.g. [https://app.example.com]");
        var credentials = rule.Bool("credentials") ?? false;
        if (credentials && origins.Contains("*"))
            rule.Error("credentials", "cannot be true with origins: ['*'] (browsers refuse credentialed responses to any origin); list the origins");
        return new Config(origins.ToImmutable(), Tokens(rule, "methods"), Tokens(rule, "headers"), Tokens(rule, "expose_headers"),
            credentials, rule.Duration("max_age"));
    }

    /// <summary>scheme://host[:port], the host's leftmost label may be '*' (any subdomain).</summary>
    private static bool IsOrigin(string origin)
    {
        var text = origin.Replace("://*.", "://wildcard.", StringComparison.Ordinal);
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.AbsolutePath == "/" && !text.EndsWith('/') && uri.Query.Length == 0 && uri.UserInfo.Length == 0 && !text.Contains('*');
    }

    private static ImmutableArray<string> Tokens(YamlSection rule, string key)
    {
        var result = ImmutableArray.CreateBuilder<string>();
        foreach (var (value, node) in rule.StringList(key))
        {
            if (value == "*" || (value.Length > 0 && value.AsSpan().IndexOfAny(" ,;\"\r\n") < 0)) result.Add(value);
            else rule.Context.Error(node, rule.Join(key), $"'{value}' is not a method or header name; write one name per item, or *");
        }
        return result.ToImmutable();
    }

    public override Rule Compile(Config config, RuleServices services) => new Apply(config);

    private sealed class Apply : Rule
    {
        /// <summary>Stateless apart from its options; its logger is off: a refused origin is the browser's to report, not a line per request here.</summary>
        private static readonly CorsService Service = new(Options.Create(new CorsOptions()), NullLoggerFactory.Instance);

        private static readonly string[] OwnHeaders =
        [
            HeaderNames.AccessControlAllowOrigin, HeaderNames.AccessControlAllowCredentials, HeaderNames.AccessControlExposeHeaders,
            HeaderNames.AccessControlAllowMethods, HeaderNames.AccessControlAllowHeaders, HeaderNames.AccessControlMaxAge,
        ];

        private readonly CorsPolicy _policy;
        private readonly bool _varies;

        public Apply(Config config) : base(config)
        {
            var builder = new CorsPolicyBuilder();
            if (config.Origins.Contains("*")) builder.AllowAnyOrigin();
            else builder.WithOrigins([.. config.Origins]).SetIsOriginAllowedToAllowWildcardSubdomains();
            // Unlisted methods and headers: what the preflight asks for (the origin list is the gate).
            if (config.Methods.IsEmpty || config.Methods.Contains("*")) builder.AllowAnyMethod();
            else builder.WithMethods([.. config.Methods]);
            if (config.Headers.IsEmpty || config.Headers.Contains("*")) builder.AllowAnyHeader();
            else builder.WithHeaders([.. config.Headers]);
            if (!config.ExposeHeaders.IsEmpty) builder.WithExposedHeaders([.. config.ExposeHeaders]);
            if (config.Credentials) builder.AllowCredentials();
            if (config.MaxAge is { } maxAge) builder.SetPreflightMaxAge(maxAge);
            _policy = builder.Build();
            // With '*' and no credentials every origin gets the same answer; otherwise the answer
            // depends on Origin, also for a request without one, which a cache must not reuse for one with.
            _varies = !_policy.AllowAnyOrigin;
        }

        public override Task? OnRequest(RuleRequest request)
        {
            var context = request.HttpContext;
            if (!IsPreflight(context.Request)) return null;
            var result = Service.EvaluatePolicy(context, _policy);
            if (!result.IsOriginAllowed)
            {
                // Fetch fails a preflight without Allow-Origin anyway; a 403 says why to a person reading the network panel.
                if (_varies) AddVary(context.Response.Headers);
                return ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                    $"The origin {context.Request.Headers.Origin} may not call this site from a browser.",
                    "If it should, add it to the origins of the route's cors rule.");
            }
            Service.ApplyResult(result, context.Response);
            if (_varies) AddVary(context.Response.Headers);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        public override bool ChangesResponse => true;

        public override void OnResponse(HttpContext context)
        {
            if (IsPreflight(context.Request)) return;
            var headers = context.Response.Headers;
            // The edge's policy is the route's policy: a server's own CORS headers would contradict it.
            foreach (var name in OwnHeaders) headers.Remove(name);
            if (context.Request.Headers.ContainsKey(HeaderNames.Origin))
            {
                var result = Service.EvaluatePolicy(context, _policy);
                if (result.IsOriginAllowed) Service.ApplyResult(result, context.Response);
            }
            if (_varies) AddVary(headers);
        }

        private static bool IsPreflight(HttpRequest request) =>
            HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey(HeaderNames.Origin)
            && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod);

        private static void AddVary(IHeaderDictionary headers)
        {
            foreach (var value in headers.Vary)
            {
                if (value is null) continue;
                foreach (var part in value.Split(','))
                {
                    if (part.Trim().Equals(HeaderNames.Origin, StringComparison.OrdinalIgnoreCase)) return;
                }
            }
            headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        }
    }
}
