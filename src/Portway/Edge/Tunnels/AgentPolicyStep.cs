using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tunnels;

/// <summary>
/// The rules of the agent's policy (--policy) for requests to its tunnel, after the global and
/// token rules (RulesMiddleware ran those before routing handed the request to the proxy): an
/// agent can add checks, never take the operator's away. Same walk as RulesMiddleware: the first
/// answer ends the request; response changes apply just before the headers go out.
/// </summary>
internal sealed class AgentPolicyStep(RequestDelegate next, TunnelPolicies policies, ILogger<AgentPolicyStep> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        if (route.Metadata is null || !route.Metadata.TryGetValue(TunnelMetadata.Name, out var name) || policies.For(name) is not { } chain) return next(context);
        return RunAsync(context, route.RouteId, chain);
    }

    // Policies are the rare case and already cost a dictionary lookup; one async frame for all of them.
    private async Task RunAsync(HttpContext context, string routeId, RuleChain chain)
    {
        // The operator's rules ran first: what they learned (the client, a token's user, headers not to forward) carries over.
        var request = new RuleRequest(context, chain, routeId, logger, RuleRequest.Of(context));
        for (var i = 0; i < chain.Rules.Length; i++)
        {
            request.Reached = i + 1;
            if (await chain.Rules[i].OnRequestAsync(request)) return;
        }
        await next(context);
    }
}
