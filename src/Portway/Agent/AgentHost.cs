using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portway.Agent.Inspector;

namespace Portway.Agent;

/// <summary>
/// Composition root of the agent (`portway http`, `portway tcp`, `portway start`): an in-process
/// Kestrel that is the HTTP/2 server of the reverse link, the links themselves, and the request
/// path in order. The agent never binds a public socket; the inspector binds loopback only.
/// </summary>
internal sealed class AgentHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LinkListener _listener = new();
    private volatile int _inspectPort = -1;

    private AgentHost(AgentOptions options)
    {
        Options = options;
        Status = new AgentStatus();
        Stats = new AgentStats();
        Links = new LinkSupervisor(options, _listener, Status);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // The status screen is the agent's output; framework logs would scribble over it.
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IConnectionListenerFactory>(_listener);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(Status);
        builder.Services.AddSingleton(Stats);
        builder.Services.AddSingleton<IRequestObserver>(Stats);
        builder.Services.AddSingleton<AgentTunnelTable>();
        builder.Services.AddSingleton<TcpStreamHandler>();
        builder.Services.AddSingleton<TunnelRequestHandler>();
        builder.Services.AddHttpForwarder();
        if (options.Inspect is not null) builder.Services.AddInspector(options.InspectorOptions);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // The edge enforces body size and slow-client limits; here they would only cut off
            // legitimate slow or large transfers a second time.
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.MinResponseDataRate = null;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            // A link with no streams is a healthy idle link; HTTP/2 PINGs (below) tell dead from idle.
            // Not InfiniteTimeSpan: measured here, Kestrel then closed every HTTP/2 connection with
            // GOAWAY at its next heartbeat (about a second idle), so each request cost a new link and
            // a request racing the GOAWAY failed with 502.
            k.Limits.KeepAliveTimeout = TimeSpan.FromDays(365);
            k.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            k.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
            // Every visitor request is a stream on one link; Kestrel's default of 100 would queue
            // the 101st at the edge.
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            k.Limits.Http2.MaxRequestHeaderFieldSize = 64 * 1024;
            // Upload windows (edge → agent). frp had to raise its yamux window to 6 MiB before
            // throughput recovered; 8 MiB per link and 1 MiB per stream bound what one slow local
            // server can make the agent buffer.
            k.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 1024 * 1024;
            k.Listen(new LinkEndPoint(options.Edge), o => o.Protocols = HttpProtocols.Http2);
            if (options.Inspect is { } inspect) k.Listen(inspect, o => o.Protocols = HttpProtocols.Http1);
        });
        _app = builder.Build();
        BuildPipeline(_app);
    }

    public AgentOptions Options { get; }
    public AgentStatus Status { get; }
    public AgentStats Stats { get; }
    public LinkSupervisor Links { get; }

    /// <summary>The inspector's page once listening (with the port the OS chose for :0), else null.</summary>
    public Uri? InspectorUrl { get; private set; }

    public static AgentHost Create(AgentOptions options) => new(options);

    private void BuildPipeline(WebApplication app)
    {
        // 1. The inspector's page and API on its own loopback port: never reachable through the tunnel.
        if (Options.Inspect is not null) app.MapWhen(c => c.Connection.LocalPort == _inspectPort, a => a.Run(a.ApplicationServices.GetRequiredService<InspectorApi>().HandleAsync));
        // 2. Time and record every request first, so the screen's latency covers the whole path.
        app.UseMiddleware<RequestObserverMiddleware>();
        // 2b. Capture headers and bodies for the inspector (after the observer: it sees refusals too).
        if (Options.Inspect is not null) app.UseMiddleware<InspectorMiddleware>();
        // 3. Tunnel lookup, visitor rules, then forwarding to the local server.
        var handler = app.Services.GetRequiredService<TunnelRequestHandler>();
        app.Run(handler.HandleAsync);
    }

    /// <summary>Starts Kestrel, then dials the first link. Throws <see cref="LinkRefusedException"/> on a permanent refusal.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (Options.Inspect is not null)
        {
            throw new IOException($"cannot listen on {Options.Inspect} for the inspector ({e.Message}); pass --inspect false or another address", e);
        }
        if (Options.Inspect is { } inspect) (_inspectPort, InspectorUrl) = InspectorAddress.Bound(_app.Services.GetRequiredService<IServer>(), inspect);
        await Links.StartAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Links.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _listener.DisposeAsync();
    }
}
