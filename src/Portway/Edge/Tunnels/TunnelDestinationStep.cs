using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Last step before the forwarder, in a file cluster with tunnel destinations: when the balancer
/// chose a tunnel, the request is forwarded with the cluster's settings but as HTTP/2 with prior
/// knowledge (the agent serves only HTTP/2). YARP decides the outgoing version, including how a
/// WebSocket is carried (RFC 8441 extended CONNECT on HTTP/2), from the cluster's request config
/// before any transform runs, so the forwarder sees an HTTP/2 variant of the cluster model for this one
/// request, and the real one again after it (a retry may choose a server next).
/// </summary>
internal sealed class TunnelDestinationStep(RequestDelegate next, TunnelDrain drain)
{
    private static readonly ConditionalWeakTable<ClusterModel, ClusterModel>.CreateValueCallback s_http2 = Http2Model;
    private readonly ConditionalWeakTable<ClusterModel, ClusterModel> _models = new();

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var cluster = proxy.Cluster;
        if (cluster.Config.Metadata?.ContainsKey(TunnelMetadata.HasTunnelDestinations) != true) return next(context);
        var chosen = proxy.AvailableDestinations;
        if (chosen.Count != 1 || chosen[0].Model.Config.Metadata?.ContainsKey(TunnelMetadata.Destination) != true) return next(context);
        return ForwardAsHttp2Async(context, proxy, cluster);
    }

    private async Task ForwardAsHttp2Async(HttpContext context, IReverseProxyFeature proxy, ClusterModel cluster)
    {
        // IReverseProxyFeature.Cluster has no setter: the forwarder sees a view of the feature
        // with the HTTP/2 model, and every other member reads and writes the real one.
        context.Features.Set<IReverseProxyFeature>(new Http2View(proxy, _models.GetValue(cluster, s_http2)));
        // Counted so edge shutdown keeps the links open until this response is through.
        using var _ = drain.Enter();
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(proxy);
        }
    }

    private static ClusterModel Http2Model(ClusterModel cluster)
    {
        var request = (cluster.Config.HttpRequest ?? ForwarderRequestConfig.Empty) with
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        return new ClusterModel(cluster.Config with { HttpRequest = request }, cluster.HttpClient);
    }

    private sealed class Http2View(IReverseProxyFeature inner, ClusterModel cluster) : IReverseProxyFeature
    {
        public RouteModel Route => inner.Route;
        public ClusterModel Cluster => cluster;
        public IReadOnlyList<DestinationState> AllDestinations => inner.AllDestinations;

        public IReadOnlyList<DestinationState> AvailableDestinations
        {
            get => inner.AvailableDestinations;
            set => inner.AvailableDestinations = value;
        }

        public DestinationState? ProxiedDestination
        {
            get => inner.ProxiedDestination;
            set => inner.ProxiedDestination = value;
        }
    }
}
