using Portway.Edge.Clients;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Portway.Edge.Forwarding;

/// <summary>
/// Sets X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded on every proxied request. Headers a
/// client sent are kept (and appended to) only when the client is a trusted proxy; from anyone
/// else they are replaced, so a visitor cannot forge their address to the servers behind us.
/// Replaces YARP's default forwarders, which always append.
/// </summary>
internal sealed class ForwardedHeadersTransformProvider(EdgeState state) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        context.UseDefaultForwarders = false;
        context.AddRequestTransform(Transform);
    }

    private ValueTask Transform(RequestTransformContext context)
    {
        var config = state.Current.Forwarded;
        var http = context.HttpContext;
        var headers = context.ProxyRequest.Headers;
        var remote = http.Connection.RemoteIpAddress;
        var trusted = remote is not null && TrustedProxies.Contains(config, remote);
        var client = remote?.ToString() ?? "unknown";
        // First, while the outgoing headers are only YARP's copy of the request's: a header the
        // rules keep from the server (a jwt token) leaves room for the ones added below, so the
        // headers' array does not grow past eight entries for one that is about to go.
        UnforwardedHeader.Drop(context);

        if (!config.XForwarded)
        {
            // Not sent, and a visitor's own copy is not passed on as if it were ours (a trusted
            // proxy's is: it is the proxy's statement, not the visitor's).
            if (!trusted)
            {
                headers.Remove("X-Forwarded-For");
                headers.Remove("X-Forwarded-Proto");
                headers.Remove("X-Forwarded-Host");
            }
        }
        else
        {
            headers.Remove("X-Forwarded-For");
            headers.Remove("X-Forwarded-Proto");
            headers.Remove("X-Forwarded-Host");
            var incomingFor = trusted ? http.Request.Headers["X-Forwarded-For"].ToString() : "";
            headers.TryAddWithoutValidation("X-Forwarded-For", incomingFor.Length > 0 ? incomingFor + ", " + client : client);
            var proto = trusted && http.Request.Headers.TryGetValue("X-Forwarded-Proto", out var p) ? p.ToString() : http.Request.Scheme;
            headers.TryAddWithoutValidation("X-Forwarded-Proto", proto);
            var host = trusted && http.Request.Headers.TryGetValue("X-Forwarded-Host", out var h) ? h.ToString() : http.Request.Host.Value;
            if (!string.IsNullOrEmpty(host)) headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        }
        if (!config.Forwarded)
        {
            if (!trusted) headers.Remove("Forwarded");
        }
        else
        {
            headers.Remove("Forwarded");
            // RFC 7239 §6: IPv6 addresses are quoted and bracketed; §5.3 host, §5.4 proto.
            var node = remote is null ? "unknown" : remote.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"\"[{client}]\"" : client;
            var element = $"for={node};host=\"{http.Request.Host.Value}\";proto={http.Request.Scheme}";
            var incoming = trusted ? http.Request.Headers["Forwarded"].ToString() : "";
            headers.TryAddWithoutValidation("Forwarded", incoming.Length > 0 ? incoming + ", " + element : element);
        }
        return ValueTask.CompletedTask;
    }
}
