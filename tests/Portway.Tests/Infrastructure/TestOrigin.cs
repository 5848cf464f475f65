using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Portway.Tests.Infrastructure;

/// <summary>A real Kestrel server on 127.0.0.1 with a port the OS picks, standing in for a destination.</summary>
public sealed class TestOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private TestOrigin(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;
    public int Port => Url.Port;
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Starts an origin; <paramref name="handler"/> answers every request. Default: 200 with the origin's name.</summary>
    public static Task<TestOrigin> StartAsync(string name, RequestDelegate? handler = null, HttpProtocols protocols = HttpProtocols.Http1, int port = 0, Action<WebApplication>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, o => o.Protocols = protocols);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var origin = new TestOrigin(app);
        app.Use(async (ctx, next) =>
        {
            Interlocked.Increment(ref origin._requests);
            ctx.Response.Headers["X-Origin"] = name;
            await next(ctx);
        });
        configure?.Invoke(app);
        app.Run(handler ?? (ctx => ctx.Response.WriteAsync(name)));
        return StartCoreAsync(origin, app);
    }

    private static async Task<TestOrigin> StartCoreAsync(TestOrigin origin, WebApplication app)
    {
        await app.StartAsync();
        origin.Url = new Uri(app.Urls.First());
        return origin;
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
