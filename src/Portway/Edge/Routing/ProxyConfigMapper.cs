using System.Collections.Immutable;
using Portway.Configuration;
using Portway.Edge.Forwarding;
using Portway.Edge.Rules;
using Portway.Edge.Settings;
using Portway.Edge.Tunnels;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using YarpRoute = Yarp.ReverseProxy.Configuration.RouteConfig;
using YarpCluster = Yarp.ReverseProxy.Configuration.ClusterConfig;
using YarpDestination = Yarp.ReverseProxy.Configuration.DestinationConfig;

namespace Portway.Edge.Routing;

/// <summary>
/// Translates Portway's config model onto YARP's route and cluster records. Everything YARP
/// already does (matching, health probing, affinity, transforms) is delegated; Portway's own
/// policies are referenced by name and read their settings from the typed <see cref="EdgeSettings"/>
/// built beside YARP's lists (<see cref="Map"/>), not from strings in YARP metadata.
/// </summary>
internal static class ProxyConfigMapper
{
    /// <summary>Everything one config publishes: YARP's routes and clusters, and Portway's settings, in one snapshot.</summary>
    public static ProxySnapshot Map(PortwayConfig config, EdgeSettings? previous, IRuleCompiler? rules = null) =>
        new(MapRoutes(config), MapClusters(config), EdgeSettings.Build(config, previous, rules ?? RuleKinds.Detached));

    public static IReadOnlyList<YarpRoute> MapRoutes(PortwayConfig config)
    {
        var routes = new List<YarpRoute>(config.Routes.Length);
        for (var index = 0; index < config.Routes.Length; index++)
        {
            var r = config.Routes[index];
            routes.Add(new YarpRoute
            {
                RouteId = r.Id,
                ClusterId = r.ClusterId,
                Order = r.Order,
                Timeout = r.Timeout,
                Match = new RouteMatch
                {
                    Hosts = r.Hosts.IsEmpty ? null : r.Hosts,
                    // YARP needs a path or hosts; a route without a path matches every path.
                    Path = r.Path ?? "/{**portway-rest}",
                    Methods = r.Methods.IsEmpty ? null : r.Methods,
                    Headers = r.Headers.IsEmpty ? null : r.Headers.Select(MapHeader).ToList(),
                    QueryParameters = r.Query.IsEmpty ? null : r.Query.Select(MapQuery).ToList(),
                },
                Transforms = r.Transforms.IsEmpty ? null : r.Transforms.Select(MapTransform).ToList(),
                // In YARP's metadata because matching is YARP's: a change rebuilds the route's endpoint (GeoRouteMetadata).
                Metadata = r.Geo.IsEmpty ? null : new Dictionary<string, string> { [GeoRouteMetadata.Key] = GeoRouteMetadata.Value(index, r.Geo) },
            });
        }
        return routes;
    }

    public static IReadOnlyList<YarpCluster> MapClusters(PortwayConfig config)
    {
        var clusters = new List<YarpCluster>(config.Clusters.Length);
        foreach (var c in config.Clusters) clusters.Add(MapCluster(c));
        return clusters;
    }

    public static YarpCluster MapCluster(Configuration.ClusterConfig c)
    {
        var destinations = new Dictionary<string, YarpDestination>(StringComparer.OrdinalIgnoreCase);
        var hasTunnels = false;
        foreach (var d in c.Destinations)
        {
            Dictionary<string, string>? destinationMetadata = null;
            if (d.Tunnel is not null)
            {
                hasTunnels = true;
                destinationMetadata = new Dictionary<string, string> { [TunnelMetadata.Destination] = d.Tunnel };
            }
            destinations[d.Id] = new YarpDestination
            {
                Address = d.Tunnel is null ? d.Url!.ToString() : TunnelConnector.NameAddress(d.Tunnel),
                // tls.server_name is the name checked in an https server's certificate (and so its Host);
                // an http:// destination in the same cluster keeps its own Host.
                Host = d.Url is { Scheme: "https" } ? c.Tls?.ServerName : null,
                Metadata = destinationMetadata,
            };
        }

        // Only what YARP acts on: it creates a cluster's HTTP client again only when the cluster's
        // config changes, so the client's settings must be part of that config.
        var metadata = new Dictionary<string, string>
        {
            [PortwayHttpClientFactory.ConnectTimeoutKey] = c.ConnectTimeout.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (hasTunnels) metadata[TunnelMetadata.HasTunnelDestinations] = "true";
        Tls.UpstreamTls.AddMetadata(metadata, c.Tls);

        HealthCheckConfig? health = null;
        if (c.ActiveHealth is not null || c.PassiveHealth is not null)
        {
            var a = c.ActiveHealth;
            var p = c.PassiveHealth;
            health = new HealthCheckConfig
            {
                // YARP's default (HealthyOrPanic) sends to every destination once none is healthy;
                // Portway answers 503 with a page naming the cluster instead.
                AvailableDestinationsPolicy = "HealthyAndUnknown",
                Active = a is null ? null : new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = a.Interval,
                    Timeout = a.Timeout,
                    Path = a.Path,
                    Policy = PolicyNames.ActiveHealth,
                },
                Passive = p is null ? null : new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = PolicyNames.PassiveHealth,
                    ReactivationPeriod = p.Ejection,
                },
            };
        }

        return new YarpCluster
        {
            ClusterId = c.Id,
            LoadBalancingPolicy = PolicyNames.LoadBalancing(c.LoadBalancing),
            Destinations = destinations,
            HealthCheck = health,
            Metadata = metadata,
            HttpRequest = new ForwarderRequestConfig
            {
                // YARP's activity timeout bounds the wait for response headers and any idle gap.
                ActivityTimeout = c.ResponseTimeout,
                Version = c.Http2ToDestinations ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
                VersionPolicy = c.Http2ToDestinations ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
            },
        };
    }

    private static RouteHeader MapHeader(HeaderMatchConfig h) => new()
    {
        Name = h.Name,
        Values = h.Values.IsEmpty ? null : h.Values,
        Mode = h.Mode switch
        {
            "prefix" => HeaderMatchMode.HeaderPrefix,
            "contains" => HeaderMatchMode.Contains,
            "exists" => HeaderMatchMode.Exists,
            "not_exists" => HeaderMatchMode.NotExists,
            _ => HeaderMatchMode.ExactHeader,
        },
    };

    private static RouteQueryParameter MapQuery(QueryMatchConfig q) => new()
    {
        Name = q.Name,
        Values = q.Values.IsEmpty ? null : q.Values,
        Mode = q.Mode switch
        {
            "prefix" => QueryParameterMatchMode.Prefix,
            "contains" => QueryParameterMatchMode.Contains,
            "exists" => QueryParameterMatchMode.Exists,
            _ => QueryParameterMatchMode.Exact,
        },
    };

    private static IReadOnlyDictionary<string, string> MapTransform(TransformConfig t) => t.Kind switch
    {
        "request_header_set" => new Dictionary<string, string> { ["RequestHeader"] = t.Name, ["Set"] = t.Value ?? "" },
        "request_header_remove" => new Dictionary<string, string> { ["RequestHeaderRemove"] = t.Name },
        "response_header_set" => new Dictionary<string, string> { ["ResponseHeader"] = t.Name, ["Set"] = t.Value ?? "", ["When"] = "Always" },
        "response_header_remove" => new Dictionary<string, string> { ["ResponseHeaderRemove"] = t.Name, ["When"] = "Always" },
        "path_remove_prefix" => new Dictionary<string, string> { ["PathRemovePrefix"] = t.Value ?? "" },
        "path_set" => new Dictionary<string, string> { ["PathSet"] = t.Value ?? "" },
        "path_prefix" => new Dictionary<string, string> { ["PathPrefix"] = t.Value ?? "" },
        _ => throw new InvalidOperationException($"unmapped transform kind {t.Kind}"),
    };
}
