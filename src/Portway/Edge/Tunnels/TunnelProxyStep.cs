using Microsoft.AspNetCore.Http;
using Portway.Edge.Acme;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tunnels;

/// <summary>
/// First step of YARP's proxy pipeline for tunnel clusters: a tunnel with no agent online gets
/// an immediate 503 that says so (not a wait, not a generic "no healthy server"), and a link that
/// fails before the response started gets a 502 that names the tunnel.
/// </summary>
internal sealed class TunnelProxyStep(RequestDelegate next, TunnelDrain drain, IAutomaticCertificates certificates, EdgeState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Every proxied request passes here: clusters that are not tunnels go on without an
        // async frame or a closure.
        var proxy = context.GetReverseProxyFeature();
        var metadata = proxy.Cluster.Config.Metadata;
        if (metadata is null || !metadata.ContainsKey(TunnelMetadata.Name)) return next(context);
        // Like sites: once a certificate covers the name, plain http is redirected (308 keeps the
        // method and body, RFC 9110 §15.4.9); ACME's http-01 answers were served before routing.
        if (!context.Request.IsHttps && !metadata.ContainsKey(TunnelMetadata.NoHttpsRedirect) && HttpsPort() is { } port
            && certificates.HasCertificate(context.Request.Host.Host)) return RedirectAsync(context, port);
        if (proxy.AvailableDestinations.Count == 0) return OfflineAsync(context);
        return ForwardAsync(context);
    }

    private async Task ForwardAsync(HttpContext context)
    {
        using (drain.Enter())
        {
            await next(context);
        }
        if (context.Response.HasStarted || context.Features.Get<IForwarderErrorFeature>() is not { } error) return;
        switch (error.Error)
        {
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient:
                return; // the visitor left
            case ForwarderError.Request when IsOffline(error.Exception):
                await OfflineAsync(context);
                return;
            case ForwarderError.RequestTimedOut:
                await ErrorPage.WriteAsync(context, 504, "Gateway Timeout",
                    $"The agent for tunnel '{context.Request.Host.Host}' did not answer in time.",
                    "The local server may be slow or stuck; the agent's screen shows the request.");
                return;
            default:
                await ErrorPage.WriteAsync(context, 502, "Bad Gateway",
                    $"The link to the agent for tunnel '{context.Request.Host.Host}' failed before the response arrived ({error.Error}: {Innermost(error.Exception)}).",
                    "The agent may have lost its connection; it reconnects by itself. Try again in a moment.");
                return;
        }
    }

    private int? HttpsPort()
    {
        foreach (var (scheme, port) in state.ProxyPorts)
        {
            if (scheme == "https") return port;
        }
        return null;
    }

    private static Task RedirectAsync(HttpContext context, int port)
    {
        var request = context.Request;
        var host = port == 443 ? request.Host.Host : $"{request.Host.Host}:{port}";
        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = $"https://{host}{request.PathBase}{request.Path}{request.QueryString}";
        return Task.CompletedTask;
    }

    private static Task OfflineAsync(HttpContext context) =>
        ErrorPage.WriteAsync(context, 503, "Tunnel offline",
            $"The tunnel '{context.Request.Host.Host}' is offline: its agent is not connected to this edge right now.",
            "If it is yours, check that `portway http …` is still running; an agent that reconnects within the grace period gets the same URL back.");

    private static string Innermost(Exception? e)
    {
        while (e?.InnerException is not null) e = e.InnerException;
        return e?.Message ?? "no detail";
    }

    private static bool IsOffline(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is TunnelOfflineException) return true;
        }
        return false;
    }
}
