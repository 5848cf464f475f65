using Microsoft.Extensions.DependencyInjection;

namespace Portway.Edge.Acme;

/// <summary>
/// Registration of ACME issuance, called once from the composition root right after
/// <c>AddPortwayTls</c>: Acme/ sits above Tls/ (it hands the certificates it issues to the TLS
/// store), so Tls/ cannot register it.
/// </summary>
internal static class AcmeServices
{
    public static IServiceCollection AddPortwayAcme(this IServiceCollection services)
    {
        services.AddSingleton<AcmeManager>();
        services.AddSingleton<IAutomaticCertificates>(sp => sp.GetRequiredService<AcmeManager>());
        services.AddHostedService(sp => sp.GetRequiredService<AcmeManager>());
        return services;
    }
}
