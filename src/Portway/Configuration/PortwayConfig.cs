using System.Net;

namespace Portway.Configuration;

/// <summary>
/// The whole effective configuration: immutable records with value equality, so a reload can
/// tell cheaply what changed. Built from a file by <see cref="ConfigLoader"/> or from CLI flags.
/// </summary>
internal sealed record PortwayConfig
{
    /// <summary>Where the config came from ("built-in defaults" when no file was given).</summary>
    public string Source { get; init; } = "built-in defaults";
    public EquatableArray<ListenerConfig> Listeners { get; init; } = [ListenerConfig.Default];
    public AdminConfig Admin { get; init; } = new();
    public EquatableArray<RouteConfig> Routes { get; init; } = [];
    public EquatableArray<ClusterConfig> Clusters { get; init; } = [];
    public ForwardedConfig Forwarded { get; init; } = new();
    public LimitsConfig Limits { get; init; } = new();
    public AccessLogConfig AccessLog { get; init; } = new();
    public TunnelsConfig Tunnels { get; init; } = new();
    public TlsConfig Tls { get; init; } = new();
    public CacheConfig Cache { get; init; } = new();
    public GeoConfig Geo { get; init; } = new();
    /// <summary>Rules for every request that matched a route, before the route's and the cluster's (docs/policy.md).</summary>
    public EquatableArray<RuleConfig> Rules { get; init; } = [];
}

/// <summary>
/// A public listener. <c>Protocols</c>: cleartext HTTP/2 (h2c) needs prior knowledge and so a
/// listener of its own (Kestrel cannot sniff h2c beside HTTP/1.1 without TLS).
/// </summary>
internal sealed record ListenerConfig(string Name, Uri Url, Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1)
{
    /// <summary>Zero-config default: http://localhost:8080 (loopback only; nothing is exposed by accident).</summary>
    public static readonly ListenerConfig Default = new("http", new Uri("http://localhost:8080"));
}

/// <summary>The admin listener (/metrics, health, later the dashboard and purge API).</summary>
internal sealed record AdminConfig
{
    /// <summary>Bound to loopback by default: admin surfaces are never public unless configured.</summary>
    public Uri? Url { get; init; } = new("http://127.0.0.1:9090");
}

internal sealed record RouteConfig
{
    public required string Id { get; init; }
    public required string ClusterId { get; init; }
    public EquatableArray<string> Hosts { get; init; } = [];
    /// <summary>A YARP path pattern, e.g. /api/{**rest}; a prefix is stored as prefix/{**catch-all}.</summary>
    public string? Path { get; init; }
    public EquatableArray<string> Methods { get; init; } = [];
    public EquatableArray<HeaderMatchConfig> Headers { get; init; } = [];
    public EquatableArray<QueryMatchConfig> Query { get; init; } = [];
    /// <summary>Regions of geo.regions; the route matches only clients in one of them (docs/geo.md).</summary>
    public EquatableArray<string> Geo { get; init; } = [];
    public int? Order { get; init; }
    public TimeSpan? Timeout { get; init; }
    public EquatableArray<TransformConfig> Transforms { get; init; } = [];
    /// <summary>Responses on this route go through the shared cache (docs/caching.md).</summary>
    public bool Cache { get; init; }
    /// <summary>
    /// The route's rules in order (docs/policy.md): the <c>access</c> shorthand's rules first
    /// (docs/access.md), then <c>rules:</c>. They run after the global rules and before the cluster's.
    /// </summary>
    public EquatableArray<RuleConfig> Rules { get; init; } = [];
}

/// <summary>Mode is one of exact, prefix, contains, exists, not_exists (YARP's header match modes).</summary>
internal sealed record HeaderMatchConfig(string Name, EquatableArray<string> Values, string Mode);

internal sealed record QueryMatchConfig(string Name, EquatableArray<string> Values, string Mode);

/// <summary>A request/response transform: kind is request_header_set, request_header_remove, response_header_set, response_header_remove, path_remove_prefix, path_set.</summary>
internal sealed record TransformConfig(string Kind, string Name, string? Value);

internal sealed record ClusterConfig
{
    public required string Id { get; init; }
    public EquatableArray<DestinationConfig> Destinations { get; init; } = [];
    /// <summary>One of <see cref="LoadBalancingNames.All"/>.</summary>
    public string LoadBalancing { get; init; } = LoadBalancingNames.RoundRobin;
    /// <summary>For consistent_hash: client_ip, header:NAME or cookie:NAME.</summary>
    public string? HashOn { get; init; }
    public ActiveHealthConfig? ActiveHealth { get; init; }
    public PassiveHealthConfig? PassiveHealth { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Time to the response headers; 504 after. Default 60s, nginx's proxy_read_timeout.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public RetryConfig Retries { get; init; } = new();
    public bool Http2ToDestinations { get; init; }
    public UpstreamTlsConfig? Tls { get; init; }
    /// <summary>Rules for every route to this cluster, after the route's own (docs/policy.md).</summary>
    public EquatableArray<RuleConfig> Rules { get; init; } = [];
}

/// <summary>A server (<paramref name="Url"/>), or the agents holding a tunnel name (<paramref name="Tunnel"/>, Url null).</summary>
internal sealed record DestinationConfig(string Id, Uri? Url, int Weight = 1, string? Tunnel = null);

internal sealed record ActiveHealthConfig
{
    public string Path { get; init; } = "/";
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Inclusive status range that counts as healthy; default 200-399 like HAProxy's http-check.</summary>
    public int ExpectMin { get; init; } = 200;
    public int ExpectMax { get; init; } = 399;
    /// <summary>Consecutive failed probes before a destination is marked down (HAProxy's fall=3).</summary>
    public int UnhealthyAfter { get; init; } = 3;
    /// <summary>Consecutive good probes before it comes back (HAProxy's rise=2).</summary>
    public int HealthyAfter { get; init; } = 2;
}

internal sealed record PassiveHealthConfig
{
    /// <summary>Consecutive failed requests (transport errors, 5xx from the destination) before ejection.</summary>
    public int ConsecutiveFailures { get; init; } = 5;
    /// <summary>How long an ejected destination stays out before it is tried again (Envoy's base_ejection_time is 30s).</summary>
    public TimeSpan Ejection { get; init; } = TimeSpan.FromSeconds(30);
}

internal sealed record RetryConfig
{
    /// <summary>Total tries including the first. 1 = no retries. Default 2, like nginx's proxy_next_upstream_tries-ish behaviour with one retry.</summary>
    public int Attempts { get; init; } = 2;
    /// <summary>Retries may add at most this share of the cluster's recent requests (Envoy/Finagle-style budget).</summary>
    public double BudgetPercent { get; init; } = 20;
    /// <summary>Retry non-idempotent methods too (off by default; a POST may have taken effect).</summary>
    public bool NonIdempotent { get; init; }
}

internal sealed record ForwardedConfig
{
    public EquatableArray<IPNetwork> TrustedProxies { get; init; } = [];
    /// <summary>Add X-Forwarded-For/-Proto/-Host (default on, as nginx configs nearly always do).</summary>
    public bool XForwarded { get; init; } = true;
    /// <summary>Add RFC 7239 Forwarded (default on).</summary>
    public bool Forwarded { get; init; } = true;
    /// <summary>Request id header; generated when absent, passed to destinations and returned.</summary>
    public string RequestIdHeader { get; init; } = "X-Request-Id";
}

/// <summary>Limits on what a client may send. Defaults follow nginx where it has one.</summary>
internal sealed record LimitsConfig
{
    /// <summary>All request headers together; 431 beyond. nginx: large_client_header_buffers 4×8k = 32 KiB.</summary>
    public long MaxRequestHeaderBytes { get; init; } = 32 * 1024;
    /// <summary>Request body; 413 beyond. nginx's client_max_body_size is 1 MiB; 100 MiB is kinder to uploads behind a proxy (Cloudflare's free limit).</summary>
    public long MaxRequestBodyBytes { get; init; } = 100L * 1024 * 1024;
    /// <summary>Request line; 414 beyond. Kestrel's default.</summary>
    public long MaxRequestLineBytes { get; init; } = 8 * 1024;
    /// <summary>Concurrent client connections; null = unlimited (Kestrel's default).</summary>
    public long? MaxConnections { get; init; }
    /// <summary>Slow-client guard: minimum bytes/second after a grace period (Kestrel's: 240 B/s after 5 s).</summary>
    public double MinDataRateBytesPerSecond { get; init; } = 240;
    public TimeSpan MinDataRateGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Time to receive the request headers (nginx's client_header_timeout is 60s; Kestrel's 30s).</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(75);
}

internal sealed record AccessLogConfig
{
    public bool Enabled { get; init; } = true;
    /// <summary>"stdout" or a file path. JSON lines.</summary>
    public string Target { get; init; } = "stdout";
}

/// <summary>Tunnel settings on the edge (see docs/tunnels.md).</summary>
internal sealed record TunnelsConfig
{
    public bool Enabled { get; init; } = true;
    /// <summary>Public names are NAME.DOMAIN. *.localhost resolves to loopback everywhere, so the default works on one machine.</summary>
    public EquatableArray<string> Domains { get; init; } = ["localhost"];
    public EquatableArray<TunnelTokenConfig> Tokens { get; init; } = [];
    /// <summary>How long a disconnected agent's names stay reserved for it.</summary>
    public TimeSpan ReconnectGrace { get; init; } = TimeSpan.FromSeconds(60);
    public int TcpPortMin { get; init; } = 20000;
    public int TcpPortMax { get; init; } = 20999;
    /// <summary>The interstitial page for browser navigations to tunnels (docs/tunnels.md#browser-warning); tokens may override.</summary>
    public bool BrowserWarning { get; init; }
    /// <summary>tunnels.by_name: rules for tunnels by their name, after the token's (docs/policy.md).</summary>
    public EquatableArray<TunnelNameRulesConfig> ByName { get; init; } = [];
}

/// <summary>One <c>tunnels.by_name</c> entry: names or patterns (<see cref="TunnelNamePattern"/>) and their rules.</summary>
internal sealed record TunnelNameRulesConfig(EquatableArray<string> Names, EquatableArray<RuleConfig> Rules);

/// <summary>A token, stored as its SHA-256 (hex), and what it may claim.</summary>
internal sealed record TunnelTokenConfig
{
    public required string Name { get; init; }
    public required string Sha256 { get; init; }
    public EquatableArray<string> ReservedNames { get; init; } = [];
    public EquatableArray<string> AllowedPatterns { get; init; } = [];
    public int MaxTunnels { get; init; } = 10;
    public bool AllowPooling { get; init; }
    public bool AllowTcp { get; init; } = true;
    /// <summary>Redirect http → https (308) for this token's names once a certificate covers them, like sites.</summary>
    public bool HttpsRedirect { get; init; } = true;
    /// <summary>Rules for every request to this token's tunnels, after the global ones (docs/policy.md).</summary>
    public EquatableArray<RuleConfig> Rules { get; init; } = [];
    /// <summary>What this token's tunnels may use together; null = unlimited.</summary>
    public TunnelLimitsConfig? Limits { get; init; }
    /// <summary>tokens[].browser_warning; null = tunnels.browser_warning.</summary>
    public bool? BrowserWarning { get; init; }
}

internal static class LoadBalancingNames
{
    public const string RoundRobin = "round_robin";
    public const string WeightedRoundRobin = "weighted_round_robin";
    public const string LeastRequests = "least_requests";
    public const string PowerOfTwoChoices = "power_of_two_choices";
    public const string Random = "random";
    public const string FirstAvailable = "first_available";
    public const string ConsistentHash = "consistent_hash";
    public const string PeakEwma = "peak_ewma";

    public static readonly string[] All =
        [RoundRobin, WeightedRoundRobin, LeastRequests, PowerOfTwoChoices, Random, FirstAvailable, ConsistentHash, PeakEwma];
}
