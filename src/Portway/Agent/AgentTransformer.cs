using Microsoft.AspNetCore.Http;
using Portway.Http;
using Portway.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Agent;

/// <summary>
/// Request and response rewriting on the agent, per tunnel: the edge's portway-* headers are
/// removed, Host is the visitor's (default, like ngrok), the target's ("rewrite") or a fixed
/// value, headers are added and response headers removed as the flags say.
/// </summary>
internal sealed class AgentTransformer(AgentTunnelOptions options) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var headers = proxyRequest.Headers;
        headers.Remove(LinkProtocol.StreamTunnelHeader);
        headers.Remove(LinkProtocol.StreamClientIpHeader);
        headers.Remove(LinkProtocol.StreamKindHeader);
        headers.Host = options.HostHeader switch
        {
            null => httpContext.Request.Host.Value,
            "rewrite" => null, // HttpClient sends the target's host:port
            var fixedHost => fixedHost,
        };
        foreach (var (name, value) in options.RequestHeadersAdd) headers.TryAddWithoutValidation(name, value);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var result = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        // The local server's Connection options end at this hop (RFC 9110 §7.6.1); YARP drops
        // Connection itself, so the edge could not tell which fields it named.
        if (proxyResponse is not null) ConnectionOptions.RemoveNamedFields(proxyResponse, httpContext.Response.Headers);
        foreach (var name in options.ResponseHeadersRemove) httpContext.Response.Headers.Remove(name);
        return result;
    }

    public override async ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken)
    {
        await base.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
        ConnectionOptions.RemoveNamedTrailers(proxyResponse, httpContext);
    }
}
