using System.Globalization;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Forwarding;

/// <summary>
/// YARP's client factory plus the per-cluster settings YARP has no config key for (connect timeout).
/// </summary>
internal sealed class PortwayHttpClientFactory : IForwarderHttpClientFactory
{
    /// <summary>clusters[].connect_timeout in milliseconds, in the cluster's YARP metadata (written by Routing/ProxyConfigMapper).</summary>
    public const string ConnectTimeoutKey = "Portway.ConnectTimeoutMs";

    private readonly Factory _inner = new();

    public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context)
    {
        // YARP reuses the old client when the cluster's HttpClient config is unchanged; a changed
        // connect timeout lives in metadata, so force a new client for it.
        if (context.OldClient is not null && (!MetadataEquals(context.OldMetadata, context.NewMetadata, ConnectTimeoutKey)
            || !MetadataEquals(context.OldMetadata, context.NewMetadata, Tls.UpstreamTls.MetadataKey)))
            context = new ForwarderHttpClientContext
            {
                ClusterId = context.ClusterId,
                OldConfig = context.OldConfig,
                OldMetadata = context.OldMetadata,
                OldClient = null,
                NewConfig = context.NewConfig,
                NewMetadata = context.NewMetadata,
            };
        return _inner.CreateClient(context);
    }

    private static bool MetadataEquals(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b, string key)
    {
        string? x = null, y = null;
        a?.TryGetValue(key, out x);
        b?.TryGetValue(key, out y);
        return x == y;
    }

    private sealed class Factory : ForwarderHttpClientFactory
    {
        protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
        {
            base.ConfigureHandler(context, handler);
            Tls.UpstreamTls.Configure(handler, context.NewMetadata);
            if (context.NewMetadata is { } metadata && metadata.TryGetValue(ConnectTimeoutKey, out var ms)
                && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                handler.ConnectTimeout = TimeSpan.FromMilliseconds(value);
            }
        }
    }
}
