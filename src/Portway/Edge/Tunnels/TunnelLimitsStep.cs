using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tunnels;

/// <summary>
/// tokens[].limits for requests to a token's tunnel URLs: the request rate (429 with Retry-After)
/// and the requests in flight across all of the token's tunnels (503), held until the response,
/// streamed body or WebSocket included, is over. Rate first: a refused request never takes a slot.
/// </summary>
internal sealed partial class TunnelLimitsStep(RequestDelegate next, TunnelTokenLimits limits, ILogger<TunnelLimitsStep> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetReverseProxyFeature().Route.Config.Metadata;
        if (metadata is null || !metadata.TryGetValue(TunnelMetadata.Token, out var token) || limits.For(token) is not { } limiter) return next(context);
        if (!limiter.TryRequest(out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return ErrorPage.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
                $"The tunnels behind '{context.Request.Host.Host}' take at most {limiter.Config.Requests} requests per {limiter.Config.Per.TotalSeconds:0.###} s, and that many came.",
                $"Wait {seconds} s and try again.");
        }
        if (limiter.TryConnection() is not { } lease)
        {
            LogBusy(logger, token, limiter.Config.Connections ?? 0);
            context.Response.Headers.RetryAfter = "1";
            return ErrorPage.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                $"The tunnels behind '{context.Request.Host.Host}' are already serving {limiter.Config.Connections} requests at once, their limit.",
                "Try again in a moment.");
        }
        return ForwardAsync(context, lease);
    }

    private async Task ForwardAsync(HttpContext context, IDisposable lease)
    {
        using (lease) await next(context);
    }

    [LoggerMessage(EventId = EventIds.TunnelTokenBusy, Level = LogLevel.Debug, Message = "Token {Token}: {Limit} requests in flight, its limits.connections; answered 503")]
    private static partial void LogBusy(ILogger logger, string token, int limit);
}
