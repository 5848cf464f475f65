using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Tls;

/// <summary>
/// Before routing: answers ACME http-01 challenges, sends plain-HTTP visitors of a site that has a
/// certificate to https:// with 308 (RFC 9110 §15.4.9: the method and body are kept, unlike 301),
/// and adds Strict-Transport-Security (RFC 6797) to HTTPS responses of sites that ask for it.
/// A site whose certificate is not issued yet is not redirected, so it stays reachable.
/// </summary>
internal sealed class HttpsRedirectMiddleware(RequestDelegate next, TlsManager tls, AcmeChallengeStore challenges, IServer server)
{
    private const string ChallengePrefix = "/.well-known/acme-challenge/";
    private int _httpsPort = -1;

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (path.StartsWith(ChallengePrefix, StringComparison.Ordinal))
        {
            // RFC 8555 §8.3: the body is the key authorization, served for any Host the CA asks with.
            if (challenges.TryGetHttp01(path[ChallengePrefix.Length..], out var keyAuthorization))
            {
                context.Response.ContentType = "application/octet-stream";
                return context.Response.WriteAsync(keyAuthorization);
            }
            return next(context);
        }
        var store = tls.Store;
        if (store.Sites.IsEmpty) return next(context);
        var host = request.Host.Host;
        var site = store.SiteFor(host);
        if (site is null) return next(context);
        if (request.IsHttps)
        {
            if (site.HstsHeader is { } hsts) context.Response.Headers.StrictTransportSecurity = hsts;
            return next(context);
        }
        if (!site.RedirectHttp || store.Covering(host) is null) return next(context);
        var port = HttpsPort();
        if (port < 0) return next(context);
        var location = string.Concat("https://", host, port == 443 ? "" : ":" + port.ToString(CultureInfo.InvariantCulture),
            request.PathBase.Value, path, request.QueryString.Value);
        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    /// <summary>The first https listener's port, read once from the server's bound addresses.</summary>
    private int HttpsPort()
    {
        var port = Volatile.Read(ref _httpsPort);
        if (port >= 0) return port;
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null) return -1;
        foreach (var a in addresses)
        {
            if (a.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(a.Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            {
                Volatile.Write(ref _httpsPort, uri.Port);
                return uri.Port;
            }
        }
        return -1;
    }
}
