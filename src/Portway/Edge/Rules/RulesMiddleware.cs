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
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        if (route is null) return next(context);
        var chain = config.Settings.Rules(route.Config);
        if (chain.IsEmpty) return next(context);

        var rules = chain.Rules;
        var steps = chain.Steps;
        var request = new RuleRequest(context, chain, route.Config.RouteId, logger);
        for (var i = 0; i < rules.Length; i++)
        {
            request.Reached = i + 1;
            var rule = rules[i];
            var step = steps[i];
            if (step == RuleStep.Wraps) return RunAsync(request, chain, i);
            if (step == RuleStep.Async)
            {
                // Most asynchronous rules finish at once (a remembered token, a cached key set):
                // the walk stays synchronous until one really has to wait.
                var answered = rule.OnRequestAsync(request);
                if (!answered.IsCompletedSuccessfully) return ResumeAsync(answered, request, chain, i + 1);
                if (answered.Result) return Task.CompletedTask;
            }
            else if (rule.OnRequest(request) is { } answer) return answer;
        }
        return next(context);
    }

    /// <summary>The walk once a rule is waiting: that rule's outcome, then the rest from <paramref name="rest"/> on.</summary>
    private async Task ResumeAsync(ValueTask<bool> waiting, RuleRequest request, RuleChain chain, int rest)
    {
        if (await waiting) return;
        await RunAsync(request, chain, rest);
    }

    /// <summary>The rest of the walk from <paramref name="start"/> on, as an async method: after a rule had to wait, or for a
    /// wrapping rule, which runs the rest of the walk and the pipeline inside itself.</summary>
    private async Task RunAsync(RuleRequest request, RuleChain chain, int start)
    {
        for (var i = start; i < chain.Rules.Length; i++)
        {
            request.Reached = i + 1;
            var rule = chain.Rules[i];
            var step = chain.Steps[i];
            if (step == RuleStep.Wraps)
            {
                var rest = i + 1;
                await rule.WrapAsync(request, _ => RunAsync(request, chain, rest));
                return;
            }
            if (step == RuleStep.Async)
            {
                if (await rule.OnRequestAsync(request)) return;
            }
            else if (rule.OnRequest(request) is { } answer)
            {
                await answer;
                return;
            }
        }
        await next(request.HttpContext);
    }
}
