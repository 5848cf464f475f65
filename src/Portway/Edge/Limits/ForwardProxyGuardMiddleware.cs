using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portway.Edge.ErrorPages;

namespace Portway.Edge.Limits;

/// <summary>
/// Refuses forward-proxy shapes before routing: a plain CONNECT (HTTP/1.1 tunnel request) is
/// answered 421, because Portway only serves the hosts its routes name. HTTP/2 extended CONNECT
/// (RFC 8441 WebSockets) is a different thing and passes.
/// </summary>
internal sealed class ForwardProxyGuardMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsConnect(context.Request.Method)
            && context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true })
        {
            return ErrorPage.WriteAsync(context, StatusCodes.Status421MisdirectedRequest, "Misdirected Request",
                $"Portway is a reverse proxy, not a forward proxy: CONNECT to '{context.Request.Host}' is refused.",
                "Send requests for a site this server hosts instead.");
        }
        return next(context);
    }
}
