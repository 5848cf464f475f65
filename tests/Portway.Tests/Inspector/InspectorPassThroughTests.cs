using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Inspector;

/// <summary>The inspector is on by default, so streaming and upgraded traffic must pass through it unchanged.</summary>
public sealed class InspectorPassThroughTests
{
    [Fact]
    public async Task ServerSentEvents_WithInspector_StillArriveOneByOneAndAreRecorded()
    {
        var next = new SemaphoreSlim(0);
        await using var f = await InspectorFixture.StartAsync(async ctx =>
        {
            ctx.Response.ContentType = "text/event-stream";
            for (var i = 1; i <= 3; i++)
            {
                await ctx.Response.WriteAsync($"data: event {i}\n\n");
                await ctx.Response.Body.FlushAsync();
                if (i < 3) await next.WaitAsync(ctx.RequestAborted);
            }
        });

        using (var response = await f.Visitor.GetAsync(new Uri(f.PublicUrl, "/events"), HttpCompletionOption.ResponseHeadersRead))
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            for (var i = 1; i <= 3; i++)
            {
                // Each event must arrive while the local server still holds the next one back.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                Assert.Equal($"data: event {i}", await reader.ReadLineAsync(timeout.Token));
                Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
                next.Release();
            }
        }

        var id = (await f.WaitForRequestsAsync(1))[0].GetProperty("id").GetInt64();
        var body = (await f.GetJsonAsync($"/api/requests/{id}")).GetProperty("response").GetProperty("body");
        Assert.Equal("data: event 1\n\ndata: event 2\n\ndata: event 3\n\n", body.GetProperty("text").GetString());
    }

    [Fact]
    public async Task WebSocket_WithInspector_EchoesAndIsRecordedWhenClosed()
    {
        await using var f = await InspectorFixture.StartAsync(async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
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
        using var invoker = new HttpMessageInvoker(TunnelClient.Handler());

        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{f.PublicUrl.Authority}/socket"), invoker, CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64];
        var echoed = await ws.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("ping", Encoding.UTF8.GetString(buffer, 0, echoed.Count));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        var entry = (await f.WaitForRequestsAsync(1))[0];
        Assert.Equal("/socket", entry.GetProperty("path").GetString());
        Assert.InRange(entry.GetProperty("status").GetInt32(), 101, 200);
    }
}
