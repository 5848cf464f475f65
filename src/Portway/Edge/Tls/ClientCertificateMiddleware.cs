using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Portway.Edge.ErrorPages;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tls;

/// <summary>
/// After routing: on a route that requires a client certificate (tls.client_auth), refuses with
/// 403 unless the visitor's certificate chains to the route's CA, and passes the certificate's
/// subject to the destination in a header (any value the visitor sent in that header is removed
/// first, so it cannot be forged). A certificate's verdict is kept for the life of its connection.
/// </summary>
internal sealed class ClientCertificateMiddleware(RequestDelegate next, TlsManager tls)
{
    private static readonly ConditionalWeakTable<X509Certificate2, ClientAuthTable.RouteRule> Verified = new();

    public Task InvokeAsync(HttpContext context)
    {
        var table = tls.ClientAuth;
        if (table.IsEmpty) return next(context);
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        if (route is null) return next(context);
        var rule = table.ForRoute(route.Config.RouteId);
        if (rule is null) return next(context);

        context.Request.Headers.Remove(rule.Header);
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null)
            return ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Client certificate required",
                "This address only accepts visitors that present a client certificate over HTTPS.",
                "Connect with https:// and the certificate your administrator issued to you (curl: --cert and --key).");
        if (!(Verified.TryGetValue(certificate, out var ok) && ReferenceEquals(ok, rule)))
        {
            if (!ChainsTo(certificate, rule.Roots, tls.Time.GetUtcNow()))
                return ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Client certificate not accepted",
                    "The client certificate was not issued by the authority this address trusts, or it has expired.",
                    "Ask the administrator for a certificate issued by the CA configured in tls.client_auth.");
            Verified.AddOrUpdate(certificate, rule);
        }
        context.Request.Headers[rule.Header] = certificate.Subject;
        return next(context);
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots, DateTimeOffset now)
    {
        if (roots.Count == 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        // id-kp-clientAuth (RFC 5280 §4.2.1.12): a server certificate is not a client credential.
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2"));
        return chain.Build(certificate);
    }
}
