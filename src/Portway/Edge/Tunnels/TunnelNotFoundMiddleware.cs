using Microsoft.AspNetCore.Http;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Runs just before the 404 page: a host under a tunnel domain that no tunnel holds gets a page
/// about tunnels (the name is unknown or its grace period ended), not a generic "no route".
/// </summary>
internal sealed class TunnelNotFoundMiddleware(RequestDelegate next, TunnelRegistry registry, EdgeState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!state.Current.Tunnels.Enabled || registry.TunnelNameOf(context.Request.Host.Host) is not { } name) return next(context);
        return ErrorPage.WriteAsync(context, StatusCodes.Status404NotFound, "Tunnel not found",
            $"No tunnel named '{name}' is connected to this edge: '{context.Request.Host.Host}' is offline or was never started.",
            "Tunnel URLs change unless a name is reserved: check the URL the agent printed (portway http PORT), or start the agent again.");
    }
}
