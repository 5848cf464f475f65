using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portway.Edge.Health;
using Portway.Edge.Retries;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Portway.Edge.LoadBalancing;

internal static class LoadBalancingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the policies that ProxyConfigMapper names (PolicyNames): weighted round robin,
    /// consistent hash, peak EWMA, first available, active and passive health, and what the retry
    /// and latency steps of <see cref="LoadBalancingPipelineExtensions.UsePortwayLoadBalancing"/> need.
    /// YARP resolves policies by name from these enumerables; its own built-ins stay registered.
    /// </summary>
    public static IServiceCollection AddPortwayLoadBalancing(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ILoadBalancingPolicy, WeightedRoundRobinPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, ConsistentHashPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, PeakEwmaPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, FirstAvailablePolicy>();
        services.AddSingleton<DestinationLatencies>();
        services.AddSingleton<IActiveHealthCheckPolicy, ActiveHealthPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, ConsecutiveFailuresPolicy>();
        services.AddSingleton<RetryMetrics>();
        services.AddSingleton<DestinationOutages>();
        return services;
    }
}
