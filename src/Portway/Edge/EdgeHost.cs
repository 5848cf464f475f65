using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Portway.Configuration;
using Portway.Edge.AccessLog;
using Portway.Edge.Acme;
using Portway.Edge.Caching;
using Portway.Edge.ErrorPages;
using Portway.Edge.Forwarding;
using Portway.Edge.Limits;
using Portway.Edge.LoadBalancing;
using Portway.Edge.Metrics;
using Portway.Edge.Observability;
using Portway.Edge.Routing;
using Portway.Edge.Rules;
using Portway.Edge.Settings;
using Portway.Edge.Tls;
using Portway.Edge.Tunnels;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge;

/// <summary>
/// Composition root of `portway serve`: Kestrel listeners, services, and the request path in order.
/// </summary>
internal sealed partial class EdgeHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(ListenOptions Options, string Purpose, string Scheme)> _listens = [];
    private readonly ConfigReloader _reloader;
    private int _adminPort = -1;

    private EdgeHost(PortwayConfig config, string? configPath, Action<IServiceCollection>? configureServices)
    {
        State = new EdgeState(config);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        ConfigureLogging(builder.Logging);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.WebHost.ConfigureKestrel(k => ConfigureKestrel(k, config));

        var ruleServices = new RuleServices();
        var rules = new RuleKinds(ruleServices);
        var proxyConfig = new PortwayProxyConfigProvider(ProxyConfigMapper.Map(config, previous: null, rules), rules);
        builder.Services.AddSingleton(State);
        builder.Services.AddSingleton(proxyConfig);
        builder.Services.AddSingleton(config.AccessLog);
        builder.Services.AddSingleton<AccessLogWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AccessLogWriter>());
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddSingleton<ReloadMetrics>();
        builder.Services.AddSingleton<NoRouteHandler>();
        // routes[].match.geo: a matcher policy over the client's regions (Edge/Geo, Edge/Clients).
        builder.Services.AddSingleton<GeoResolver>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Routing.MatcherPolicy, GeoMatcherPolicy>();
        builder.Services.AddPortwayTls();
        builder.Services.AddPortwayAcme();
        // routes[].timeout maps to YARP's RouteConfig.Timeout, which ASP.NET Core's request-timeouts
        // middleware enforces; without it YARP answers every request on such a route with a 500.
        builder.Services.AddRequestTimeouts(o => o.DefaultPolicy = null);
        builder.Services.AddPortwayCache(config.Cache);
        // Requests get the forwarded headers; responses lose the fields their Connection names (RFC 9110 §7.6.1).
        builder.Services.AddReverseProxy()
            .AddTransforms<ForwardedHeadersTransformProvider>()
            .AddTransforms<ConnectionOptionsTransformProvider>();
        builder.Services.AddPortwayLoadBalancing();
        builder.Services.AddSingleton<IProxyConfigProvider>(proxyConfig);
        builder.Services.AddSingleton<IForwarderHttpClientFactory, PortwayHttpClientFactory>();
        // Tunnels: link endpoint, registry, and tunnel clusters (decorates the client factory above).
        builder.Services.AddPortwayTunnels();
        builder.Services.AddOpenTelemetry().ConfigureResource(MetricsResource.Describe).WithMetrics(m => m
            .AddMeter(EdgeMetrics.MeterName, "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        configureServices?.Invoke(builder.Services);

        _app = builder.Build();
        ruleServices.Attach(_app.Services);
        _reloader = new ConfigReloader(configPath, State, proxyConfig, _app.Services.GetRequiredService<ReloadMetrics>(), _app.Services.GetRequiredService<ILogger<ConfigReloader>>());
        BuildPipeline(_app);
    }

    public EdgeState State { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Every bound address with what it is for, known after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<(string Url, string Purpose)> Addresses { get; private set; } = [];

    public static EdgeHost Create(PortwayConfig config, string? configPath = null, Action<IServiceCollection>? configureServices = null) =>
        new(config, configPath, configureServices);

    private void BuildPipeline(WebApplication app)
    {
        // 1. The admin listener is a separate surface: /metrics and /healthz only, never proxied,
        //    and kept out of the access log and request metrics (scrapes would drown them).
        app.MapWhen(c => c.Connection.LocalPort == _adminPort, BuildAdmin);
        // 1b. Agents' tunnel links (/_portway/link): long-lived upgraded connections, so they skip the
        //     access log and request metrics, and no route can shadow the path.
        app.UseTunnelLinks();
        // 2. Ids, access log and metrics next, so the recorded duration covers every later step.
        app.UseMiddleware<RequestObserverMiddleware>();
        // 3. Forward-proxy and smuggling shapes are refused before any routing can match them.
        app.UseMiddleware<RequestGuardMiddleware>();
        // 3b. ACME http-01 answers, http→https 308 and HSTS: per site, before any route can match.
        app.UseMiddleware<HttpsRedirectMiddleware>();
        app.UseRouting();
        // 3c. Rules (global, route, cluster: ip, rate_limit, basic_auth, headers, redirect…) need the
        //     matched route and must run before anything is forwarded or served from cache.
        app.UseMiddleware<RulesMiddleware>();
        // 3d. Routes that require a visitor certificate (mTLS) check it once the route is known.
        app.UseMiddleware<ClientCertificateMiddleware>();
        // 3e. routes[].timeout: the whole request (guards excluded) within the route's limit, else
        //     504. Needs the matched endpoint, so after routing; only routes with a timeout pay for it.
        app.UseRequestTimeouts();
        // 4. Pages for errors YARP produced (502/503/504), after the proxy has run.
        app.UseMiddleware<ProxyErrorPageMiddleware>();
        // 5. Routes from the config: retries, affinity, load balancing, passive health, then the forwarder.
        // Explicit UseEndpoints (not top-level mapping) so the 404 page below runs only when no route matched.
#pragma warning disable ASP0014
        app.UseEndpoints(e => e.MapReverseProxy(proxy =>
        {
            // The shared cache (routes with cache: true): the route is known, and a hit is
            // answered before load balancing, so it never touches a destination.
            proxy.UseMiddleware<CacheMiddleware>();
            // Tunnel clusters: offline page when no agent is connected, link-failure pages.
            proxy.UseTunnels();
            // Retries wrap affinity, balancing and passive health so a retry picks again (LoadBalancingPipelineExtensions).
            proxy.UsePortwayLoadBalancing();
            // Innermost: a tunnel destination the balancer chose in a file cluster goes as HTTP/2.
            proxy.UseTunnelDestinations();
        }).ConfigureEndpoints(GeoRouteMetadata.AddTo));
#pragma warning restore ASP0014
        // 6. Nothing matched: a page for unknown tunnel names, else a 404 page, never a forward
        //    to the host the client named. (Tunnel routes sort before file routes; see TunnelMetadata.)
        app.UseTunnelNotFoundPage();
        var noRoute = app.Services.GetRequiredService<NoRouteHandler>();
        app.Run(noRoute.HandleAsync);
    }

    private static void BuildAdmin(IApplicationBuilder admin)
    {
        admin.UseOpenTelemetryPrometheusScrapingEndpoint();
        admin.UseMiddleware<CachePurgeMiddleware>();
        admin.Run(static context =>
        {
            if (context.Request.Path == "/healthz") return context.Response.WriteAsync("ok\n");
            return ErrorPage.WriteAsync(context, 404, "Not Found", "The admin listener serves /metrics, /healthz and POST /cache/purge.");
        });
    }

    private void ConfigureKestrel(KestrelServerOptions k, PortwayConfig config)
    {
        var limits = config.Limits;
        k.AddServerHeader = false;
        k.Limits.MaxRequestHeadersTotalSize = (int)Math.Min(int.MaxValue, limits.MaxRequestHeaderBytes);
        k.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
        k.Limits.MaxRequestLineSize = (int)Math.Min(int.MaxValue, limits.MaxRequestLineBytes);
        k.Limits.MaxConcurrentConnections = limits.MaxConnections;
        k.Limits.MaxConcurrentUpgradedConnections = limits.MaxConnections;
        k.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinDataRateBytesPerSecond, limits.MinDataRateGrace);
        k.Limits.MinResponseDataRate = new MinDataRate(limits.MinDataRateBytesPerSecond, limits.MinDataRateGrace);
        k.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        k.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;

        foreach (var listener in config.Listeners)
        {
            Listen(k, listener.Url, listener.Protocols, $"proxy (listener '{listener.Name}')");
        }
        if (config.Admin.Url is { } admin) Listen(k, admin, HttpProtocols.Http1, "admin (/metrics, /healthz)");
    }

    private void Listen(KestrelServerOptions k, Uri url, HttpProtocols protocols, string purpose)
    {
        void Configure(ListenOptions o)
        {
            o.Protocols = protocols;
            if (url.Scheme == "https") TlsServices.UseTls(o, k.ApplicationServices);
            _listens.Add((o, purpose, url.Scheme));
        }
        if (url.Host is "localhost") k.ListenLocalhost(url.Port, Configure);
        else if (url.Host is "0.0.0.0" or "[::]") k.ListenAnyIP(url.Port, Configure);
        else k.Listen(IPAddress.Parse(url.Host.Trim('[', ']')), url.Port, Configure);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        var addresses = new List<(string, string)>();
        foreach (var (options, purpose, scheme) in _listens)
        {
            var endpoint = options.IPEndPoint;
            var url = endpoint is null || options.GetType().Name.StartsWith("Localhost", StringComparison.Ordinal)
                ? $"{scheme}://localhost:{endpoint?.Port}" : $"{scheme}://{FormatHost(endpoint)}";
            if (purpose.StartsWith("admin", StringComparison.Ordinal) && endpoint is not null) _adminPort = endpoint.Port;
            addresses.Add((url, purpose));
        }
        Addresses = addresses;
        State.ProxyPorts = [.. _listens.Where(l => l.Purpose.StartsWith("proxy", StringComparison.Ordinal) && l.Options.IPEndPoint is not null)
            .Select(l => (l.Scheme, l.Options.IPEndPoint!.Port))];
        _reloader.Start();
    }

    private static string FormatHost(IPEndPoint e) =>
        e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{e.Address}]:{e.Port}" : $"{e.Address}:{e.Port}";

    /// <summary>The first proxy listener's URL, for tests and the CLI banner.</summary>
    public Uri ProxyUrl => new(Addresses.First(a => a.Purpose.StartsWith("proxy", StringComparison.Ordinal)).Url);

    public Uri? AdminUrl => Addresses.Where(a => a.Purpose.StartsWith("admin", StringComparison.Ordinal)).Select(a => new Uri(a.Url)).FirstOrDefault();

    /// <summary>The errors of the last rejected reload, null when the last one applied.</summary>
    public IReadOnlyList<ConfigError>? LastReloadErrors => _reloader.LastErrors;

    /// <summary>Applies a new config (already validated) the way a file change would.</summary>
    public void Apply(PortwayConfig config) => _reloader.Apply(config);

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _reloader.Dispose();
        await _app.DisposeAsync();
    }

    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        logging.SetMinimumLevel(LogLevel.Information);
        // Per-request framework logs cost throughput and duplicate the access log.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Off entirely: while any level of this category is on, ASP.NET Core's hosting layer starts
        // an Activity and a log scope for every request (and HttpClient then writes a traceparent
        // for it): ~15% of the edge's CPU per small request (docs/benchmarks.md). It logs only
        // request start/finish, which the access log covers. Trace headers pass through unchanged.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Yarp", LogLevel.Warning);
        // YARP logs every failed probe with a stack trace; Portway's health policy logs one line
        // per state change instead (down, and back up).
        logging.AddFilter("Yarp.ReverseProxy.Health", LogLevel.Error);
        // YARP logs every failed forward as a warning with a stack trace: thousands of lines in the
        // second after a server dies. DestinationOutages logs the state change once instead, with a
        // summary while it lasts; causes are counted in portway_upstream_failures_total.
        logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Error);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // "Hosting failed to start" (an Error with the stack trace) precedes the exception that
        // EdgeRunner turns into one sentence (a port taken, a port below 1024 without the
        // capability). Critical stays on: a faulted background service stopping the host says so.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        // Session-affinity cookies use ephemeral in-memory keys on purpose; the warning is noise.
        logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        // Malformed and smuggling-shaped requests are rejected by Kestrel; say so in the log.
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Debug);
    }
}
