using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Portway.Edge.Forwarding;

/// <summary>
/// A request header the edge reads but does not pass on to the server (a <c>jwt</c> rule's token
/// with <c>forward_token: false</c>). It is dropped from the outgoing request only, not from the
/// request the edge holds: Kestrel reuses a header's string on a connection's next request when
/// the bytes are the same, which a removed header loses (a JWT is ~1 KB a request). Whoever judges
/// the request as the server sees it (the cache's RFC 9111 §3.5 Authorization rule) asks
/// <see cref="IsForwarded"/>.
/// </summary>
internal sealed class UnforwardedHeader(string name, UnforwardedHeader? next = null)
{
    public string Name { get; } = name;

    /// <summary>Another header marked on the same request (two rules with different token headers).</summary>
    public UnforwardedHeader? Next { get; } = next;

    /// <summary>Marks the header for this request; <paramref name="header"/> is the rule's own instance, so the usual case allocates nothing.</summary>
    public static void Mark(HttpContext context, UnforwardedHeader header)
    {
        var marked = Marked(context);
        for (var h = marked; h is not null; h = h.Next)
        {
            if (string.Equals(h.Name, header.Name, StringComparison.OrdinalIgnoreCase)) return;
        }
        context.Features[typeof(UnforwardedHeader)] = marked is null ? header : new UnforwardedHeader(header.Name, marked);
    }

    /// <summary>True when the request has the header and it goes on to the server.</summary>
    public static bool IsForwarded(HttpContext context, string name)
    {
        if (!context.Request.Headers.ContainsKey(name)) return false;
        for (var h = Marked(context); h is not null; h = h.Next)
        {
            if (string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)) return false;
        }
        return true;
    }

    /// <summary>The request transform: takes the marked headers out of what is sent to the server.</summary>
    public static void Drop(RequestTransformContext context)
    {
        for (var h = Marked(context.HttpContext); h is not null; h = h.Next)
        {
            context.ProxyRequest.Headers.Remove(h.Name);
        }
    }

    /// <summary>By the indexer, not a generic virtual <c>Get&lt;T&gt;</c>: asked on every proxied request (ClientAddress says why).</summary>
    private static UnforwardedHeader? Marked(HttpContext context) => (UnforwardedHeader?)context.Features[typeof(UnforwardedHeader)];
}
