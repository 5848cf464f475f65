using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Access;

/// <summary>
/// Applies a route's guards once routing has picked the route, before anything is forwarded, in
/// nginx's phase order: address rules (403), rate limit (429), basic auth (401). Routes without
/// an access block cost one dictionary lookup.
/// </summary>
internal sealed partial class AccessMiddleware(RequestDelegate next, AccessPolicies policies, ILogger<AccessMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (policies.IsEmpty) return next(context);
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        var policy = route is null ? null : policies.Get(route.Config.RouteId);
        if (policy is null) return next(context);

        if (!policy.IsAddressAllowed(Clients.ClientAddress.Of(context)))
        {
            LogDenied(Clients.ClientAddress.Of(context)?.ToString(), route!.Config.RouteId);
            return ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"Your address ({Clients.ClientAddress.Of(context)}) may not use this site.",
                "If you should have access, ask the site's operator to add your network to routes[].access.allow.");
        }
        if (policy.TryAcquire(context) is { } retryAfter)
        {
            if (retryAfter > 0) context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ErrorPage.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
                "You are sending requests faster than this site allows.",
                retryAfter > 0 ? $"Wait {retryAfter} s and try again." : "Slow down and try again shortly.");
        }
        if (policy.RequiresAuth)
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            if (!policy.IsAuthorized(authorization.Length == 0 ? null : authorization))
            {
                context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{policy.Realm}\", charset=\"UTF-8\"";
                return ErrorPage.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                    "This site needs a user name and password.", "Your browser will ask for them; with curl use -u USER:PASSWORD.");
            }
            // The credentials are the edge's, not the server's: don't pass them on.
            context.Request.Headers.Authorization = default;
        }
        return next(context);
    }

    [LoggerMessage(EventId = EventIds.AccessDenied, Level = LogLevel.Information, Message = "Denied {Client} on route {Route} by its address rules")]
    private partial void LogDenied(string? client, string route);
}
