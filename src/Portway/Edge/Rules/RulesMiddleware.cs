using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Rules;

/// <summary>
/// Runs the matched route's rules (global, route or tunnel token, cluster; docs/policy.md) once routing has
/// picked the route and before anything is forwarded or served from cache. The first rule that
/// answers ends the request; rules that change the response do it just before its headers go
/// out, whoever wrote it. A route without rules costs one dictionary lookup.
/// </summary>
internal sealed class RulesMiddleware(RequestDelegate next, PortwayProxyConfigProvider config, ILogger<RulesMiddleware> logger)
{
    private static readonly Func<object, Task> s_onStarting = OnStarting;

    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        if (route is null) return next(context);
        var routeId = route.Config.RouteId;
        var chain = config.Settings.Rules(route.Config);
        if (chain.IsEmpty) return next(context);

        var rules = chain.Rules;
        // Registered before the rules run, so it also covers an answer a rule writes; it applies
        // only the rules reached (the first answer ends the list for both halves).
        var response = chain.ChangesResponse ? new ResponsePass(chain, context) : null;
        if (response is not null) context.Response.OnStarting(s_onStarting, response);
        if (chain.IsAsync) return RunAsync(context, routeId, chain, response);
        for (var i = 0; i < rules.Length; i++)
        {
            if (response is not null) response.Reached = i + 1;
            if (rules[i].OnRequest(context, routeId, logger) is { } answer) return answer;
        }
        return next(context);
    }

    /// <summary>The same walk for chains with a rule that may wait or wrap; kept apart so sync chains never allocate a state machine.
    /// A wrapping rule runs the rest of the walk (from <paramref name="start"/> on) and the pipeline inside itself.</summary>
    private async Task RunAsync(HttpContext context, string routeId, RuleChain chain, ResponsePass? response, int start = 0)
    {
        for (var i = start; i < chain.Rules.Length; i++)
        {
            if (response is not null) response.Reached = i + 1;
            var rule = chain.Rules[i];
            if (rule.Wraps)
            {
                var rest = i + 1;
                await rule.WrapAsync(context, c => RunAsync(c, routeId, chain, response, rest));
                return;
            }
            if (rule.IsAsync)
            {
                if (await rule.OnRequestAsync(context, routeId, logger)) return;
            }
            else if (rule.OnRequest(context, routeId, logger) is { } answer)
            {
                await answer;
                return;
            }
        }
        await next(context);
    }

    private static Task OnStarting(object state)
    {
        var pass = (ResponsePass)state;
        var rules = pass.Chain.Rules;
        for (var i = 0; i < pass.Reached; i++)
        {
            if (rules[i].ChangesResponse) rules[i].OnResponse(pass.Context);
        }
        return Task.CompletedTask;
    }

    /// <summary>What the response callback needs; allocated only for chains with a response rule.</summary>
    private sealed class ResponsePass(RuleChain chain, HttpContext context)
    {
        public RuleChain Chain { get; } = chain;
        public HttpContext Context { get; } = context;
        public int Reached { get; set; }
    }
}
