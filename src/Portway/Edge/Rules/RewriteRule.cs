using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>rewrite</c>: changes the path and/or query the server receives (nginx's <c>rewrite … break</c>):
/// after routing (the route stays the one that matched), before the cache and the forwarder.
/// With a <c>match</c> regex only matching paths are rewritten, its groups filling <c>{1}</c>….
/// </summary>
internal sealed class RewriteRule : RuleKind<RewriteRule.Config>
{
    internal sealed record Config(string? Match, string? Path, string? Query) : RuleConfig
    {
        public override string Kind => "rewrite";
    }

    public override string Name => "rewrite";

    public override string[] Keys { get; } = ["match", "path", "query"];

    public override Config? Read(YamlSection rule)
    {
        var match = UrlTemplate.ParseMatch(rule, out var failed);
        var path = rule.String("path");
        var query = rule.String("query");
        if (path is null && query is null) rule.Context.Error(rule.Node, rule.Path, "changes nothing; give path and/or query, e.g. path: /v2/{1}");
        var ok = !failed && path is not null | query is not null;
        if (path is not null)
        {
            if (!path.StartsWith('/') && !path.StartsWith('{')) { rule.Error("path", $"'{path}' must start with '/' (or a placeholder), e.g. /v2/{{1}}"); ok = false; }
            else if (!failed && UrlTemplate.Parse(path, match, out var error) is null) { rule.Error("path", error!); ok = false; }
        }
        if (query is not null && !failed && UrlTemplate.Parse(query, match, out var qerror) is null) { rule.Error("query", qerror!); ok = false; }
        return ok ? new Config(match?.ToString(), path, query) : null;
    }

    public override Rule Compile(Config config, RuleServices services) => new Apply(config);

    private sealed class Apply : Rule
    {
        private readonly Regex? _match;
        private readonly UrlTemplate? _path;
        private readonly UrlTemplate? _query;

        public Apply(Config config) : base(config)
        {
            _match = config.Match is null ? null : new Regex(config.Match, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            _path = config.Path is null ? null : UrlTemplate.Parse(config.Path, _match, out _);
            _query = config.Query is null ? null : UrlTemplate.Parse(config.Query, _match, out _);
        }

        public override Task? OnRequest(RuleRequest request)
        {
            var context = request.HttpContext;
            var http = context.Request;
            Match? m = null;
            if (_match is not null)
            {
                if (!_match.IsMatch(http.Path.Value.AsSpan())) return null;
                m = _match.Match(http.Path.Value ?? "");
            }
            // Both are expanded from the request as it came, then applied.
            var path = _path?.Expand(context, m);
            var query = _query?.Expand(context, m);
            if (path is not null) http.Path = PathString.FromUriComponent(path);
            if (query is not null)
            {
                query = query.TrimStart('?');
                http.QueryString = query.Length == 0 ? QueryString.Empty : new QueryString("?" + query);
            }
            return null;
        }
    }
}
