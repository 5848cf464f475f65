using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// A real Kestrel origin that can die and come back on the same port: <see cref="KillAsync"/> aborts
/// every connection mid-whatever and drops the listener at once (what the edge sees when a server
/// process is SIGKILLed: connections closed with no response), <see cref="StopGracefullyAsync"/> is
/// Kestrel's own graceful stop, <see cref="StartAgainAsync"/> listens on the same port again.
/// </summary>
internal sealed class KillableOrigin : IAsyncDisposable
{
    private readonly string _name;
    private readonly RequestDelegate _handler;
    private readonly ConcurrentDictionary<string, ConnectionContext> _connections = new();
    private WebApplication? _app;
    private int _requests;

    private KillableOrigin(string name, RequestDelegate? handler)
    {
        _name = name;
        _handler = handler ?? (ctx => ctx.Response.WriteAsync(name));
    }

    public int Port { get; private set; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<KillableOrigin> StartAsync(string name, RequestDelegate? handler = null)
    {
        var origin = new KillableOrigin(name, handler);
        await origin.StartAgainAsync();
        return origin;
    }

    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, o => o.Use(next => async connection =>
        {
            _connections[connection.ConnectionId] = connection;
            try
            {
                await next(connection);
            }
            finally
            {
                _connections.TryRemove(connection.ConnectionId, out _);
            }
        })));
        var app = builder.Build();
        app.Run(ctx =>
        {
            Interlocked.Increment(ref _requests);
            ctx.Response.Headers["X-Origin"] = _name;
            return _handler(ctx);
        });
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    public async Task KillAsync()
    {
        var app = _app;
        _app = null;
        if (app is null) return;
        foreach (var connection in _connections.Values) connection.Abort(new ConnectionAbortedException("killed"));
        using var now = new CancellationTokenSource();
        now.Cancel();
        await app.StopAsync(now.Token);
        await app.DisposeAsync();
    }

    public async Task StopGracefullyAsync()
    {
        var app = _app;
        _app = null;
        if (app is null) return;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(KillAsync());
}
