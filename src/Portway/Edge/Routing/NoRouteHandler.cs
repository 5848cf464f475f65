using Microsoft.AspNetCore.Http;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Routing;

/// <summary>
/// The end of the pipeline: nothing claimed the request. Portway is never an open proxy, so the
/// answer is a page, never a forward to whatever host the client named.
/// </summary>
internal sealed class NoRouteHandler(EdgeState state)
{
    public Task HandleAsync(HttpContext context)
    {
        var config = state.Current;
        var host = context.Request.Host.Value ?? "";
        if (config.Routes.IsEmpty)
        {
            return ErrorPage.WriteAsync(context, StatusCodes.Status404NotFound, "Portway is running",
                $"No routes are configured yet ({config.Source}), so there is nothing to send '{host}{context.Request.Path}' to.",
                "Add a route and a cluster to a config file and run `portway serve --config portway.yaml` — see samples/minimal.yaml — or start a tunnel with `portway http 3000`.");
        }
        return ErrorPage.WriteAsync(context, StatusCodes.Status404NotFound, "No route",
            $"No route on this server matches host '{host}', path '{context.Request.Path}' and method {context.Request.Method}.",
            "Check the address; if it is yours, add a route for it (routes[].match.hosts) and the config reloads on save.");
    }
}
