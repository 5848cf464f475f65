using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portway.Edge.Acme;

namespace Portway.Edge.Tls;

/// <summary>Registration of TLS termination and ACME, called once from the composition root.</summary>
internal static class TlsServices
{
    public static IServiceCollection AddPortwayTls(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CertificateStore>();
        services.AddSingleton<AcmeChallengeStore>();
        services.AddSingleton<TlsManager>();
        services.AddSingleton<AcmeManager>();
        services.AddSingleton<IAutomaticCertificates>(sp => sp.GetRequiredService<AcmeManager>());
        services.AddHostedService(sp => sp.GetRequiredService<AcmeManager>());
        return services;
    }

    /// <summary>Turns an https:// listener into a TLS one; the listener's protocols decide the ALPN list.</summary>
    public static void UseTls(ListenOptions listen, IServiceProvider services) =>
        services.GetRequiredService<TlsManager>().ConfigureListener(listen);
}
