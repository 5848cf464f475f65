using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Portway.Agent.Inspector;

/// <summary>Registers the inspector's parts on the agent's host (AgentHost does this only when --inspect is on).</summary>
internal static class InspectorServiceCollectionExtensions
{
    public static IServiceCollection AddInspector(this IServiceCollection services, InspectorOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<InspectorStore>();
        services.AddSingleton<RequestReplayer>();
        services.AddSingleton<InspectorApi>();
        return services;
    }
}
