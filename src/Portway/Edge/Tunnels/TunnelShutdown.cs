using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portway.Diagnostics;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Drains tunnel requests when the edge stops, as Kestrel drains every other request. Host.StopAsync
/// raises ApplicationStopping, then stops hosted services last-registered first: the web server
/// (added by WebApplicationBuilder.Build, so after this service) stops accepting and waits for open
/// requests up to HostOptions.ShutdownTimeout. An agent's link is one of those requests and ends
/// only when the edge closes it, so the drain runs beside the server's: on ApplicationStopping,
/// refuse new links and close the idle spares; once no visitor request is forwarded over a link
/// (or the timeout is nearly used up), close the active links too, which lets the server finish.
/// </summary>
internal sealed partial class TunnelShutdown(IHostApplicationLifetime lifetime, TunnelRegistry registry, TunnelDrain drain,
    IOptions<HostOptions> hostOptions, TimeProvider time, ILogger<TunnelShutdown> logger) : IHostedService
{
    /// <summary>
    /// Links close this long before the shutdown timeout even with requests still in flight: those
    /// visitors then get a 502 page and the server's own drain completes, instead of the host
    /// cancelling it. Two seconds covers writing the pages and closing the connections on a busy edge.
    /// </summary>
    public static readonly TimeSpan CloseMargin = TimeSpan.FromSeconds(2);

    private Task _drained = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The callback runs synchronously inside StopAsync, before the server stops: start, never wait.
        lifetime.ApplicationStopping.Register(static s => ((TunnelShutdown)s!).Begin(), this);
        return Task.CompletedTask;
    }

    private void Begin() => _drained = DrainAsync();

    private async Task DrainAsync()
    {
        var started = time.GetTimestamp();
        var links = registry.BeginDrain();
        var inFlight = drain.InFlight;
        if (inFlight > 0) LogDraining(inFlight, links);
        var idle = await drain.WaitIdleAsync(Budget(hostOptions.Value.ShutdownTimeout), time);
        registry.CloseAll();
        if (!idle) LogDrainTimedOut(drain.InFlight);
        else if (inFlight > 0) LogDrained(time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>How long requests may keep the links open: the shutdown timeout less <see cref="CloseMargin"/>.</summary>
    public static TimeSpan Budget(TimeSpan shutdownTimeout)
    {
        if (shutdownTimeout == Timeout.InfiniteTimeSpan) return shutdownTimeout;
        return shutdownTimeout > 2 * CloseMargin ? shutdownTimeout - CloseMargin : shutdownTimeout / 2;
    }

    /// <summary>Runs after the server stopped (it was registered later, so it stops first): the drain is over by then.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _drained.WaitAsync(cancellationToken);

    [LoggerMessage(EventId = EventIds.TunnelDraining, Level = LogLevel.Information, Message = "Edge stopping: draining {Requests} tunnel request(s) before closing {Links} agent link(s)")]
    private partial void LogDraining(int requests, int links);

    [LoggerMessage(EventId = EventIds.TunnelDrained, Level = LogLevel.Information, Message = "Tunnel links closed after the drain ({ElapsedMs:0} ms)")]
    private partial void LogDrained(double elapsedMs);

    [LoggerMessage(EventId = EventIds.TunnelDrainTimedOut, Level = LogLevel.Warning, Message = "Tunnel drain hit the shutdown timeout with {Requests} request(s) in flight; links closed, those visitors get a 502")]
    private partial void LogDrainTimedOut(int requests);
}
