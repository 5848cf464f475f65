using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>redirect</c>: answers with a 3xx to <c>to</c>, a <see cref="UrlTemplate"/>; with a
/// <c>match</c> regex only requests whose path matches are redirected (its groups fill
/// <c>{1}</c>… in the target), the rest pass on.
/// </summary>
internal sealed class RedirectRule : RuleKind<RedirectRule.Config>
{
    private static readonly int[] Statuses = [301, 302, 303, 307, 308];

    internal sealed record Config(string To, int Status, string? Match) : RuleConfig
    {
        public override string Kind => "redirect";
    }

    public override string Name => "redirect";

    public override string[] Keys { get; } = ["to", "status", "match"];

    public override Config? Read(YamlSection rule)
    {
        var to = rule.String("to", required: true);
        var status = rule.Int("status") ?? 302;
        if (Array.IndexOf(Statuses, status) < 0) rule.Error("status", $"{status} is not a redirect status; allowed: 301, 302, 303, 307, 308");
        var match = UrlTemplate.ParseMatch(rule, out var failed);
        if (to is null || failed) return null;
        if (UrlTemplate.Parse(to, match, out var error) is null)
        {
            rule.Error("to", error!);
            return null;
        }
        return new Config(to, status, match?.ToString());
    }

    public override Rule Compile(Config config, RuleServices services) => new Answer(config);

    private sealed class Answer : Rule
    {
        private readonly Regex? _match;
        private readonly UrlTemplate _to;
        private readonly int _status;

        public Answer(Config config) : base(config)
        {
            _match = config.Match is null ? null : new Regex(config.Match, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            _to = UrlTemplate.Parse(config.To, _match, out _)!;
            _status = config.Status;
        }

        public override Task? OnRequest(RuleRequest request)
        {
            var context = request.HttpContext;
            Match? m = null;
            if (_match is not null)
            {
                // IsMatch on the span allocates nothing: a request the rule does not apply to costs no Match object.
                if (!_match.IsMatch(context.Request.Path.Value.AsSpan())) return null;
                m = _match.Match(context.Request.Path.Value ?? "");
            }
            context.Response.StatusCode = _status;
            context.Response.Headers.Location = _to.Expand(context, m);
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }
    }
}
