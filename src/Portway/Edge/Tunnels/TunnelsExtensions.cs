using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portway.Edge.Forwarding;
using Portway.Protocol;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Portway.Edge.Tunnels;

/// <summary>The edge's tunnel feature as three hooks for <see cref="EdgeHost"/>: services, the link endpoint, the proxy step.</summary>
internal static class TunnelsExtensions
{
    /// <summary>Call after the edge's own IForwarderHttpClientFactory registration: tunnels decorate it.</summary>
    public static IServiceCollection AddPortwayTunnels(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TunnelConnector>();
        services.AddSingleton<TunnelProxyConfigProvider>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<TunnelProxyConfigProvider>());
        services.AddSingleton<TunnelTokenLimits>();
        services.AddSingleton<TunnelPolicies>();
        services.AddSingleton<TunnelRegistry>();
        services.AddSingleton<TunnelLinkEndpoint>();
        services.AddSingleton<PortwayHttpClientFactory>();
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, TunnelHttpClientFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, TunnelTransformProvider>());
        services.AddSingleton<TunnelDrain>();
        services.AddHostedService<TunnelShutdown>();
        return services;
    }

    /// <summary>The agents' link endpoint; on every host, ahead of routes, so no route can shadow it.</summary>
    public static IApplicationBuilder UseTunnelLinks(this IApplicationBuilder app)
    {
        var endpoint = app.ApplicationServices.GetRequiredService<TunnelLinkEndpoint>();
        return app.MapWhen(static c => c.Request.Path.Equals(LinkProtocol.Path, StringComparison.OrdinalIgnoreCase), b => b.Run(endpoint.HandleAsync));
    }

    /// <summary>Offline and link-failure pages for tunnel clusters, and offline tunnel destinations of file clusters left out, before load balancing.</summary>
    public static IReverseProxyApplicationBuilder UseTunnels(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<TunnelProxyStep>();
        // The agent's own rules (--policy) come after the global and token rules, which ran before routing.
        proxy.UseMiddleware<AgentPolicyStep>();
        // After the offline page and the https redirect; before the limits, so the page is no request to the agent.
        proxy.UseMiddleware<BrowserWarningStep>();
        // Only requests that will be forwarded count.
        proxy.UseMiddleware<TunnelLimitsStep>();
        proxy.UseMiddleware<TunnelDestinationFilter>();
        return proxy;
    }

    /// <summary>Innermost step, after load balancing: a chosen tunnel destination of a file cluster goes as HTTP/2.</summary>
    public static IReverseProxyApplicationBuilder UseTunnelDestinations(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<TunnelDestinationStep>();
        return proxy;
    }

    /// <summary>A page for unknown tunnel names, just before the generic 404.</summary>
    public static IApplicationBuilder UseTunnelNotFoundPage(this IApplicationBuilder app) => app.UseMiddleware<TunnelNotFoundMiddleware>();
}
