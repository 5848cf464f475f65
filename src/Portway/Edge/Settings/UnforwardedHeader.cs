using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Portway.Edge.Settings;

/// <summary>
/// A request header the edge reads but does not pass on to the server (a <c>jwt</c> rule's token
/// with <c>forward_token: false</c>, <c>basic_auth</c>'s credentials), marked by the rule on its
/// <see cref="RuleRequest"/>. It is dropped from the outgoing request only, not from the request
/// the edge holds: Kestrel reuses a header's string on a connection's next request when the
/// bytes are the same, which a removed header loses (a JWT is ~1 KB a request). Whoever judges
/// the request as the server sees it (the cache's RFC 9111 §3.5 Authorization rule) asks
/// <see cref="IsForwarded"/>.
/// </summary>
internal sealed class UnforwardedHeader(string name, UnforwardedHeader? next = null)
{
    public string Name { get; } = name;

    /// <summary>Another header marked on the same request (two rules with different token headers).</summary>
    public UnforwardedHeader? Next { get; } = next;

    /// <summary>True when the request has the header and it goes on to the server.</summary>
    public static bool IsForwarded(HttpContext context, string name)
    {
        if (!context.Request.Headers.ContainsKey(name)) return false;
        for (var h = RuleRequest.Of(context)?.Unforwarded; h is not null; h = h.Next)
        {
            if (string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)) return false;
        }
        return true;
    }

    /// <summary>The request transform: takes the marked headers out of what is sent to the server.</summary>
    public static void Drop(RequestTransformContext context)
    {
        for (var h = RuleRequest.Of(context.HttpContext)?.Unforwarded; h is not null; h = h.Next)
        {
            context.ProxyRequest.Headers.Remove(h.Name);
        }
    }
}
