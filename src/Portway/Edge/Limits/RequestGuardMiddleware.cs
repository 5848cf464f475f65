using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Portway.Edge.Clients;
using Portway.Edge.ErrorPages;

namespace Portway.Edge.Limits;

/// <summary>
/// Refuses request shapes Kestrel accepts but a proxy must not pass on, before routing:
/// <list type="bullet">
/// <item>a plain CONNECT (a forward-proxy tunnel request) gets 421 whatever its target form, over
/// HTTP/1.1 and HTTP/2: Portway only serves the hosts its routes name. Malformed ones never get
/// here: Kestrel answers an HTTP/1.1 CONNECT without Host, or whose Host is not its authority-form
/// target, with 400 (RFC 9112 §3.2), and resets an HTTP/2 one with :scheme or :path (RFC 9113 §8.5).
/// HTTP/2 extended CONNECT (RFC 8441 WebSockets) is a different thing and passes.</item>
/// <item>Content-Length together with Transfer-Encoding gets 400 and the connection is closed.
/// RFC 9112 §6.3 lets a server reject it; forwarding it is the classic request-smuggling shape
/// (a server behind us may frame the body differently).</item>
/// </list>
/// Duplicate Content-Length, obs-fold and bad chunking are already rejected by Kestrel's parser.
/// </summary>
internal sealed partial class RequestGuardMiddleware(RequestDelegate next, ILogger<RequestGuardMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method)
            && context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true })
        {
            return ErrorPage.WriteAsync(context, StatusCodes.Status421MisdirectedRequest, "Misdirected Request",
                $"Portway is a reverse proxy, not a forward proxy: CONNECT to '{request.Host}' is refused.",
                "Send requests for a site this server hosts instead.");
        }
        // Kestrel keeps Transfer-Encoding and moves a conflicting Content-Length aside to
        // X-Content-Length (so the app never sees both); either spelling means both were sent.
        if (request.Headers.TransferEncoding.Count > 0
            && (request.Headers.ContentLength is not null || request.Headers.ContainsKey("X-Content-Length")))
        {
            LogSmuggling(ClientAddress.Of(context)?.ToString(), request.Host.Value);
            context.Response.Headers.Connection = "close";
            return ErrorPage.WriteAsync(context, StatusCodes.Status400BadRequest, "Bad Request",
                "The request has both Content-Length and Transfer-Encoding, so its length is ambiguous.",
                "Send one of the two headers, not both.");
        }
        return next(context);
    }

    [LoggerMessage(EventId = EventIds.RequestSmugglingRejected, Level = LogLevel.Warning, Message = "Rejected a request from {Client} for {Host} with both Content-Length and Transfer-Encoding (request smuggling shape)")]
    private partial void LogSmuggling(string? client, string? host);
}
