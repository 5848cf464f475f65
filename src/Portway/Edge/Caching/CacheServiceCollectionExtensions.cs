using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portway.Configuration;

namespace Portway.Edge.Caching;

internal static class CacheServiceCollectionExtensions
{
    /// <summary>The shared cache and its background revalidator; TimeProvider.System unless a test put a fake one.</summary>
    public static IServiceCollection AddPortwayCache(this IServiceCollection services, CacheConfig config)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(config);
        services.AddSingleton<HttpCache>();
        services.AddSingleton<BackgroundRevalidator>();
        return services;
    }
}
