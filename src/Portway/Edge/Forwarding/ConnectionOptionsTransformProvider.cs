using Portway.Http;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Portway.Edge.Forwarding;

/// <summary>
/// Removes from every proxied response, headers and trailers, the fields its Connection field
/// names (RFC 9110 §7.6.1), after YARP has copied them and before anything reaches the client or
/// the cache, which stores only what the client was sent (RFC 9111 §3.1). Runs on every route,
/// tunnels included.
/// </summary>
internal sealed class ConnectionOptionsTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        context.AddResponseTransform(static transform =>
        {
            // No upstream response (the request failed): nothing was copied.
            if (transform.ProxyResponse is { } received) ConnectionOptions.RemoveNamedFields(received, transform.HttpContext.Response.Headers);
            return ValueTask.CompletedTask;
        });
        context.AddResponseTrailersTransform(static transform =>
        {
            if (transform.ProxyResponse is { } received) ConnectionOptions.RemoveNamedTrailers(received, transform.HttpContext);
            return ValueTask.CompletedTask;
        });
    }
}
