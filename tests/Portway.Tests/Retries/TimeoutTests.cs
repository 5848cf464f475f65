using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Retries;

public sealed class TimeoutTests
{
    [Fact]
    [CoversKey("clusters[].timeouts.response")]
    public async Task Get_DestinationSlowerThanResponseTimeout_504Page()
    {
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            await ctx.Response.WriteAsync("late");
        });
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([slow], """
                timeouts:
                  response: 300ms
            """));

        using var response = await edge.Client.GetAsync("/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer in time", body);
        Assert.Contains("cluster 'app'", body);
        // Not retried: the request reached the server, which may still be working on it.
        Assert.Equal(1, slow.Requests);
    }

    [Fact]
    public async Task Get_RouteTimeoutElapses_504PageNamesTheRoute()
    {
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            if (ctx.Request.Path == "/fast") { await ctx.Response.WriteAsync("fast"); return; }
            await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            await ctx.Response.WriteAsync("late");
        });
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: api
                cluster: app
                timeout: 300ms
            clusters:
              - id: app
                destinations: [{slow.Url}]
            """);

        // A request within the limit is answered (a route with a timeout once answered every request with a 500).
        using var fast = await edge.Client.GetAsync("/fast");
        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
        Assert.Equal("fast", await fast.Content.ReadAsStringAsync());

        using var response = await edge.Client.GetAsync("/slow");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("Route 'api'", body);
        Assert.Contains("routes[].timeout", body);
    }

    [Fact]
    public async Task Get_NothingListening_502PageSaysConnectionRefused()
    {
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{Cluster.DeadPort()}/"]));

        using var response = await edge.Client.GetAsync("/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("connection refused", body);
    }

    [SkippableFact]
    public async Task Get_ConnectNeverCompletes_504PageSaysCouldNotConnect()
    {
        using var blackhole = await Blackhole.StartAsync();
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{blackhole.Port}/"], """
                timeouts:
                  connect: 300ms
            """));

        using var response = await edge.Client.GetAsync("/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("Could not connect to", body);
        Assert.Contains("in time", body);
    }

    [SkippableFact]
    public async Task Get_ConnectTimesOutOnOne_RetriedOnTheOther()
    {
        using var blackhole = await Blackhole.StartAsync();
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{blackhole.Port}/", a.Url.ToString()], """
                load_balancing: first_available
                timeouts:
                  connect: 1s
            """));

        using var response = await edge.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", Cluster.OriginOf(response));
    }

    /// <summary>
    /// A loopback port where connects hang: a listener that never accepts, with its accept queue
    /// filled, so the kernel drops further SYNs (Linux does not refuse them) — an unroutable
    /// address without leaving loopback.
    /// </summary>
    internal sealed class Blackhole : IDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _fillers = [];

        private Blackhole(Socket listener) => _listener = listener;

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public static async Task<Blackhole> StartAsync()
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            // Linux queues backlog + 1 connections that nobody accepts; the next SYN is dropped.
            listener.Listen(1);
            var hole = new Blackhole(listener);
            for (var i = 0; i < 16; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                // A connect into a free queue slot completes in microseconds; on a busy machine give
                // it longer before calling it hung, and never call it hung before two have queued.
                using var attempt = new CancellationTokenSource(hole._fillers.Count >= 2 ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(5));
                try
                {
                    await filler.ConnectAsync(new IPEndPoint(IPAddress.Loopback, hole.Port), attempt.Token);
                    hole._fillers.Add(filler);
                }
                catch (OperationCanceledException)
                {
                    filler.Dispose();
                    if (hole._fillers.Count >= 2) return hole; // the queue is full: this connect hung
                    break;
                }
            }
            hole.Dispose();
            Skip.If(true, "this kernel does not drop connects beyond the listen backlog; cannot make a hanging connect on loopback");
            return null!;
        }

        public void Dispose()
        {
            foreach (var s in _fillers) s.Dispose();
            _listener.Dispose();
        }
    }
}
