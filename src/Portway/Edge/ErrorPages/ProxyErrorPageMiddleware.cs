using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Portway.Edge.Health;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.ErrorPages;

/// <summary>
/// Turns YARP's bare error statuses (502, 503, 504 with no body) into pages that name the cluster
/// and say what failed. Only errors the proxy produced are touched: a destination's own 5xx
/// passes through unchanged.
/// </summary>
internal sealed class ProxyErrorPageMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.Response.HasStarted || context.Response.StatusCode < 400) return;
        var proxy = context.Features.Get<IReverseProxyFeature>();
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (proxy is null) return;
        var cluster = proxy.Cluster?.Config.ClusterId ?? proxy.Route.Config.ClusterId ?? "?";

        if (error is null)
        {
            // YARP sets 503 without an error feature when no destination is available.
            if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable && proxy.AvailableDestinations.Count == 0)
            {
                await ErrorPage.WriteAsync(context, 503, "Service Unavailable",
                    $"No healthy server in cluster '{cluster}' can take this request.",
                    "Every destination is failing its health checks or was ejected after errors; check that the servers are running. Portway retries them automatically.");
            }
            return;
        }

        var destination = proxy.ProxiedDestination?.Model.Config.Address ?? "the server";
        switch (error.Error)
        {
            case ForwarderError.NoAvailableDestinations:
                await ErrorPage.WriteAsync(context, 503, "Service Unavailable",
                    $"No healthy server in cluster '{cluster}' can take this request.",
                    "Every destination is failing its health checks or was ejected after errors; check that the servers are running.");
                break;
            // SocketsHttpHandler's ConnectTimeout surfaces as a cancellation carrying a TimeoutException,
            // which YARP files under RequestTimedOut; the response timeout carries none.
            case ForwarderError.RequestTimedOut or ForwarderError.Request when IsTimeout(error.Exception):
                await ErrorPage.WriteAsync(context, 504, "Gateway Timeout",
                    $"Could not connect to {destination} (cluster '{cluster}') in time.",
                    "Check that the server is reachable; raise clusters[].timeouts.connect if it is slow to accept.");
                break;
            case ForwarderError.RequestTimedOut:
                await ErrorPage.WriteAsync(context, 504, "Gateway Timeout",
                    $"{destination} (cluster '{cluster}') did not answer in time.",
                    "Raise clusters[].timeouts.response if the server is slow on purpose.");
                break;
            case ForwarderError.Request when FailureCauses.Of(error) == FailureCause.ClosedBeforeResponse:
                // Retried already if that was safe (RetryMiddleware); what is left could have acted on the request.
                await ErrorPage.WriteAsync(context, 502, "Bad Gateway",
                    $"{destination} (cluster '{cluster}') closed the connection before answering: the server went away in the middle of this request.",
                    HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                        ? "No other server could take it; check that the servers are running."
                        : $"A {context.Request.Method} may already have taken effect there, so it was not sent again to another server; check before you repeat it.");
                break;
            case ForwarderError.Request:
                await ErrorPage.WriteAsync(context, 502, "Bad Gateway",
                    $"Could not get a response from {destination} (cluster '{cluster}'): {Describe(error.Exception)}",
                    "Check that the server is running and listening on that address.");
                break;
            case ForwarderError.RequestBodyDestination:
                await ErrorPage.WriteAsync(context, 502, "Bad Gateway",
                    $"{destination} (cluster '{cluster}') went away while the request body was being sent.",
                    "The request may be incomplete there and was not sent again; check before you repeat it.");
                break;
            // routes[].timeout fired: ASP.NET Core's request-timeouts middleware cancelled the request,
            // which YARP can only see as a cancellation (and would answer 400, "the client went away").
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
                when context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true:
                await ErrorPage.WriteAsync(context, 504, "Gateway Timeout",
                    $"Route '{proxy.Route.Config.RouteId}' did not finish within its timeout ({proxy.Route.Config.Timeout?.TotalSeconds:0.###} s) waiting for {destination} (cluster '{cluster}').",
                    "Raise routes[].timeout if requests on this route are slow on purpose.");
                break;
            case ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled:
                // The client went away or sent a broken body: nothing useful to send back.
                break;
            default:
                await ErrorPage.WriteAsync(context, context.Response.StatusCode, "Bad Gateway",
                    $"Forwarding to {destination} (cluster '{cluster}') failed: {error.Error}.");
                break;
        }
    }

    private static bool IsTimeout(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException) return true;
        }
        return false;
    }

    private static string Describe(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException se) return se.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused ? "connection refused" : se.Message;
            if (e.InnerException is null) return e.Message;
        }
        return "unknown error";
    }
}
