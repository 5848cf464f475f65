using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Portway.Edge.Tls;

/// <summary>Registration of TLS termination, called once from the composition root (ACME: <c>Acme/AcmeServices</c>, right after).</summary>
internal static class TlsServices
{
    public static IServiceCollection AddPortwayTls(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CertificateStore>();
        services.AddSingleton<AcmeChallengeStore>();
        services.AddSingleton<TlsManager>();
        return services;
    }

    /// <summary>Turns an https:// listener into a TLS one; the listener's protocols decide the ALPN list.</summary>
    public static void UseTls(ListenOptions listen, IServiceProvider services) =>
        services.GetRequiredService<TlsManager>().ConfigureListener(listen);
}
