using Portway.Configuration;
using Portway.Edge.Acme;
using Portway.Edge.Settings;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// The public URLs of a tunnel name, as the edge really serves them: https only while a
/// certificate covers NAME.DOMAIN (a wildcard site, or one ordered for the name), http unless
/// names with a certificate are redirected (the default, like sites), and why https is not there
/// yet. The agent prints exactly these, so it never shows a URL that would fail or warn.
/// </summary>
internal static class TunnelUrls
{
    public static TunnelGrant Http(string id, string name, LinkRequest request, TunnelsConfig config, EdgeState state, IAutomaticCertificates certificates)
    {
        var domain = config.Domains[0];
        var host = $"{name}.{domain}";
        string? http = null, https = null, pending = null;
        var httpPort = Port("http", request, state);
        var httpsPort = Port("https", request, state);
        if (httpsPort is { } sp)
        {
            if (certificates.HasCertificate(host)) https = $"https://{host}{Suffix(sp, 443)}";
            else pending = certificates.PendingReason(host)
                ?? $"no certificate covers {host}: add a tls.sites entry for *.{domain}, or turn on tls.acme.tunnels";
        }
        // The token's https_redirect, unless a tls.sites entry covers the names: then its redirect decides.
        var redirect = https is not null && (certificates.SiteRedirects(host) || (request.Token?.HttpsRedirect ?? true));
        if (httpPort is { } hp && !redirect) http = $"http://{host}{Suffix(hp, 80)}";
        return new TunnelGrant(id, name, https ?? http ?? $"{request.PublicScheme}://{host}", http, https, pending);
    }

    /// <summary>The port visitors use for the scheme: the one the agent dialed if it is that scheme, else the first such listener.</summary>
    private static int? Port(string scheme, LinkRequest request, EdgeState state)
    {
        if (request.PublicScheme == scheme) return request.PublicPort ?? (scheme == "https" ? 443 : 80);
        foreach (var (s, port) in state.ProxyPorts)
        {
            if (s == scheme) return port;
        }
        return null;
    }

    private static string Suffix(int port, int standard) => port == standard ? "" : $":{port}";
}
