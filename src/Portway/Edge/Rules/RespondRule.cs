using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>respond</c>: answers every request that reaches it with a fixed status, body and content
/// type (nginx's <c>return 200 "…"</c>, Caddy's <c>respond</c>); nothing is forwarded.
/// </summary>
internal sealed class RespondRule : RuleKind<RespondRule.Config>
{
    internal sealed record Config(int Status, string Body, string ContentType) : RuleConfig
    {
        public override string Kind => "respond";
    }

    public override string Name => "respond";

    public override string[] Keys { get; } = ["status", "body", "content_type"];

    public override Config? Read(YamlSection rule) =>
        new(rule.Int("status", 200, 599) ?? 200, rule.String("body") ?? "", rule.String("content_type") ?? "text/plain; charset=utf-8");

    public override Rule Compile(Config config, RuleServices services) => new Answer(config);

    private sealed class Answer(Config config) : Rule(config)
    {
        private readonly byte[] _body = Encoding.UTF8.GetBytes(config.Body);

        public override Task? OnRequest(RuleRequest request)
        {
            var context = request.HttpContext;
            var response = context.Response;
            response.StatusCode = config.Status;
            // 204 and 304 have no content (RFC 9110 §15.3.5, §15.4.5); HEAD gets the headers only.
            if (config.Status is 204 or 304) return Task.CompletedTask;
            response.ContentType = config.ContentType;
            response.ContentLength = _body.Length;
            if (HttpMethods.IsHead(context.Request.Method) || _body.Length == 0) return Task.CompletedTask;
            return response.Body.WriteAsync(_body, 0, _body.Length, context.RequestAborted);
        }
    }
}
