using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Tunnels;

/// <summary>A file cluster whose destinations are a server and a tunnel name (a rack server plus a laptop).</summary>
public sealed class MixedClusterTests
{
    /// <summary>Route 'web' to cluster 'mixed' with these destination lines (and any further cluster keys).</summary>
    private static string Config(string destinations, string more = "") =>
        "routes:\n  - id: web\n    cluster: mixed\nclusters:\n  - id: mixed\n    destinations:\n"
        + string.Concat(destinations.Split('\n').Select(l => "      " + l.Trim() + "\n"))
        + (more.Length == 0 ? "" : string.Concat(more.Split('\n').Select(l => "    " + l.TrimEnd() + "\n")));

    /// <summary>The usual pair: a server, then the tunnel 'laptop'.</summary>
    private static string Config(Uri server) => Config($"- url: {server}\n- tunnel: laptop");

    [Fact]
    [CoversKey("clusters[].destinations[].tunnel")]
    public async Task RoundRobin_SpreadsOverServerAndTunnel()
    {
        await using var server = await TestOrigin.StartAsync("server");
        string? hostSeen = null;
        await using var laptop = await TestOrigin.StartAsync("laptop", ctx =>
        {
            hostSeen = ctx.Request.Host.Value;
            return ctx.Response.WriteAsync("laptop");
        });
        await using var edge = await TestEdge.StartAsync(Config(server.Url));
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(laptop.Url, name: "laptop"));

        var bodies = new List<string>();
        for (var i = 0; i < 10; i++) bodies.Add(await edge.Client.GetStringAsync(new Uri(edge.Url, "/r" + i)));

        Assert.Equal(5, bodies.Count(b => b == "server"));
        Assert.Equal(5, bodies.Count(b => b == "laptop"));
        Assert.True(edge.Url.Authority == hostSeen, $"host seen: {hostSeen}"); // the visitor's Host, not the internal tunnel address
    }

    [Fact]
    public async Task TunnelOffline_ServerTakesEverything_ThenTunnelRejoins()
    {
        await using var server = await TestOrigin.StartAsync("server");
        await using var laptop = await TestOrigin.StartAsync("laptop");
        await using var edge = await TestEdge.StartAsync(Config(server.Url));

        // No agent yet: every request goes to the server, none fails on the missing link.
        for (var i = 0; i < 6; i++)
        {
            using var response = await edge.Client.GetAsync(new Uri(edge.Url, "/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("server", await response.Content.ReadAsStringAsync());
        }

        await using (var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(laptop.Url, name: "laptop")))
        {
            await Wait.UntilAsync(async () => await edge.Client.GetStringAsync(new Uri(edge.Url, "/")) == "laptop",
                because: "the tunnel takes its share once its agent is online");
        }

        // The agent left: the server again, and no request in between gets an error page.
        for (var i = 0; i < 6; i++)
        {
            using var response = await edge.Client.GetAsync(new Uri(edge.Url, "/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("server", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task OnlyTunnelOffline_503NamesTheCluster()
    {
        await using var edge = await TestEdge.StartAsync(Config("- tunnel: laptop"));
        using var response = await edge.Client.GetAsync(new Uri(edge.Url, "/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("mixed", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ActiveHealth_ProbesTheTunnelThroughItsLink()
    {
        await using var server = await TestOrigin.StartAsync("server");
        var healthy = true;
        await using var laptop = await TestOrigin.StartAsync("laptop", ctx =>
        {
            if (ctx.Request.Path == "/health") ctx.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 500;
            return ctx.Response.WriteAsync("laptop");
        });
        await using var edge = await TestEdge.StartAsync(Config($"- url: {server.Url}\n- tunnel: laptop",
            "health:\n  active: { path: /health, interval: 200ms, timeout: 1s, unhealthy_after: 1, healthy_after: 1 }"));
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(laptop.Url, name: "laptop"));
        await Wait.UntilAsync(async () => await edge.Client.GetStringAsync(new Uri(edge.Url, "/")) == "laptop",
            because: "the healthy tunnel takes its share");

        Volatile.Write(ref healthy, false);
        await Wait.UntilAsync(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                if (await edge.Client.GetStringAsync(new Uri(edge.Url, "/")) != "server") return false;
            }
            return true;
        }, because: "a failing probe through the link takes the tunnel out of rotation");
    }

    [Fact]
    public async Task WebSocket_ThroughTunnelDestination_Echoes()
    {
        await using var server = await TestOrigin.StartAsync("server");
        await using var laptop = await TestOrigin.StartAsync("laptop", async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            var result = await ws.ReceiveAsync(buffer, ctx.RequestAborted);
            await ws.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, true, ctx.RequestAborted);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ctx.RequestAborted);
        }, configure: app => app.UseWebSockets());
        // The tunnel first in failover order, so the socket cannot land on the server by chance.
        await using var edge = await TestEdge.StartAsync(Config($"- tunnel: laptop\n- url: {server.Url}", "load_balancing: first_available"));
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(laptop.Url, name: "laptop"));

        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{edge.Url.Authority}/ws"), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("hello laptop"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var received = await ws.ReceiveAsync(buffer, CancellationToken.None);

        Assert.Equal("hello laptop", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    [Fact]
    public async Task EdgeStops_RequestInFlightToTunnelDestination_Completes()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestOrigin.StartAsync("server");
        await using var laptop = await TestOrigin.StartAsync("laptop", async ctx =>
        {
            received.TrySetResult();
            await gate.Task;
            await ctx.Response.WriteAsync("laptop, late");
        });
        var edge = await TestEdge.StartAsync(Config($"- tunnel: laptop\n- url: {server.Url}", "load_balancing: first_available"));
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(laptop.Url, name: "laptop"));
        using var client = new HttpClient();

        var visitor = client.GetAsync(new Uri(edge.Url, "/"));
        await Wait.UntilAsync(() => received.Task.IsCompleted, because: "the laptop has the request");
        var stopping = edge.DisposeAsync().AsTask();
        await Wait.UntilAsync(() => agent.Status.Links == 1, because: "the stopping edge closes the idle spare at once");
        Assert.False(stopping.IsCompleted, "the stop waits for the request on the tunnel destination");
        gate.SetResult();

        using var response = await visitor.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("laptop, late", await response.Content.ReadAsStringAsync());
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
