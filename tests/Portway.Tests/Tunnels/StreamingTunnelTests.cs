using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>Bodies, concurrency, streaming and upgrades through a real edge and agent.</summary>
public sealed class StreamingTunnelTests
{
    [Fact]
    public async Task Download_100MB_ArrivesIntactWithChecksum()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            ctx.Response.ContentLength = Payload.HundredMegabytes;
            await Payload.WriteAsync(ctx.Response.Body, Payload.HundredMegabytes, cancellationToken: ctx.RequestAborted);
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create(TimeSpan.FromMinutes(3));

        using var response = await client.GetAsync(new Uri(agent.Url, "/big"), HttpCompletionOption.ResponseHeadersRead);
        var (length, sha) = await Payload.HashAsync(await response.Content.ReadAsStreamAsync());

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal(Payload.HundredMegabytes, length);
        Assert.Equal(Payload.Expected(Payload.HundredMegabytes), sha);
    }

    [Fact]
    public async Task Upload_100MB_ArrivesIntactWithChecksum()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            var (length, sha) = await Payload.HashAsync(ctx.Request.Body, ctx.RequestAborted);
            await ctx.Response.WriteAsync($"{length} {sha}");
        });
        await using var edge = await TestEdge.StartAsync("limits:\n  max_request_body_bytes: 200m\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create(TimeSpan.FromMinutes(3));

        var content = new PushContent(s => Payload.WriteAsync(s, Payload.HundredMegabytes), Payload.HundredMegabytes);
        using var response = await client.PostAsync(new Uri(agent.Url, "/upload"), content);

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal($"{Payload.HundredMegabytes} {Payload.Expected(Payload.HundredMegabytes)}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_200Concurrent_AllSucceed()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            // A little server latency so the 200 requests are in flight on the link together.
            await Task.Delay(20);
            await ctx.Response.WriteAsync("n=" + ctx.Request.Query["n"]);
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();

        var tasks = Enumerable.Range(0, 200).Select(i => client.GetStringAsync(new Uri(agent.Url, $"/c?n={i}"))).ToArray();
        var bodies = await Task.WhenAll(tasks);

        for (var i = 0; i < 200; i++) Assert.Equal($"n={i}", bodies[i]);
    }

    [Fact]
    public async Task SlowReader_DoesNotStallOtherRequests()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            if (ctx.Request.Path == "/big") await Payload.WriteAsync(ctx.Response.Body, Payload.HundredMegabytes, cancellationToken: ctx.RequestAborted);
            else await ctx.Response.WriteAsync("quick");
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var slowClient = TunnelClient.Create();
        using var client = TunnelClient.Create();

        // A visitor that starts a 100 MB download and then stops reading: its stream's window fills.
        using var stalled = await slowClient.GetAsync(new Uri(agent.Url, "/big"), HttpCompletionOption.ResponseHeadersRead);
        var stalledBody = await stalled.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        await stalledBody.ReadExactlyAsync(buffer);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++) Assert.Equal("quick", await client.GetStringAsync(new Uri(agent.Url, "/q")));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"20 small requests beside a stalled download took {watch.Elapsed}");
    }

    [Fact]
    public async Task ServerSentEvents_ArriveOneByOne()
    {
        var next = new SemaphoreSlim(0);
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            ctx.Response.ContentType = "text/event-stream";
            for (var i = 1; i <= 3; i++)
            {
                await ctx.Response.WriteAsync($"data: event {i}\n\n");
                await ctx.Response.Body.FlushAsync();
                if (i < 3) await next.WaitAsync(ctx.RequestAborted);
            }
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();

        using var response = await client.GetAsync(new Uri(agent.Url, "/events"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        for (var i = 1; i <= 3; i++)
        {
            // Each event must arrive while the origin is still holding the next one back.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal($"data: event {i}", await reader.ReadLineAsync(timeout.Token));
            Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
            next.Release();
        }
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task WebSocket_Echo_ThroughTunnel()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await ws.ReceiveAsync(buffer, ctx.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ctx.RequestAborted);
                    return;
                }
                await ws.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, ctx.RequestAborted);
            }
        }, configure: app => app.UseWebSockets());
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var invoker = new HttpMessageInvoker(TunnelClient.Handler());

        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{agent.Url.Authority}/ws"), invoker, CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            var message = Encoding.UTF8.GetBytes($"hello {i}");
            await ws.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[1024];
            var result = await ws.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal($"hello {i}", Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketState.Closed, ws.State);
    }

    /// <summary>Request content written by a callback, so 100 MB is streamed, not buffered.</summary>
    private sealed class PushContent(Func<Stream, Task> write, long length) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => write(stream);

        protected override bool TryComputeLength(out long l)
        {
            l = length;
            return true;
        }
    }
}
