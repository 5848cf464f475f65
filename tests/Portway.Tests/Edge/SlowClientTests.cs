using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Edge;

/// <summary>Kestrel's limits, as mapped from `limits:`, protect the edge from slow and greedy clients.</summary>
public sealed class SlowClientTests
{
    private static async Task<TestEdge> Edge(Uri origin, string limits) => await TestEdge.StartAsync($"""
        limits:
        {limits}
        {TestEdge.OneRoute(origin)}
        """);

    [Fact]
    [CoversKey("limits.request_headers_timeout")]
    public async Task Slowloris_HeadersNeverFinish_ConnectionClosedAfterTimeout()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await Edge(origin.Url, "  request_headers_timeout: 1s");
        using var client = new TcpClient();
        await client.ConnectAsync(edge.Url.Host, edge.Url.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "));
        var watch = Stopwatch.StartNew();
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var text = new StringBuilder();
        int n;
        while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0) text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        // Closed by the edge (with a 408 first) well before our own 20 s guard.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15));
        Assert.StartsWith("HTTP/1.1 408", text.ToString());
        Assert.Equal(0, origin.Requests);
    }

    [Fact]
    public async Task SlowBody_BelowMinimumRate_Aborted()
    {
        await using var origin = await TestOrigin.StartAsync("a", async ctx =>
        {
            await ctx.Request.Body.CopyToAsync(Stream.Null);
            await ctx.Response.WriteAsync("done");
        });
        await using var edge = await Edge(origin.Url, "  min_data_rate: 10000\n  min_data_rate_grace: 2s");
        using var client = new TcpClient();
        await client.ConnectAsync(edge.Url.Host, edge.Url.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"));
        var closed = false;
        var watch = Stopwatch.StartNew();
        // Trickle 10 bytes every 100 ms (100 B/s, far below 10 kB/s) until the edge gives up on us.
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                await stream.WriteAsync(new byte[10]);
                await Task.Delay(100);
                if (client.Client.Poll(0, SelectMode.SelectRead) && client.Available == 0)
                {
                    closed = true;
                    break;
                }
                if (client.Available > 0)
                {
                    closed = true;
                    break;
                }
            }
            catch (IOException)
            {
                closed = true;
                break;
            }
        }
        Assert.True(closed, "the edge kept a connection that sent 100 B/s against a 10 kB/s minimum");
    }

    [Fact]
    [CoversKey("limits.max_connections")]
    public async Task MaxConnections_OverLimit_ExtraConnectionClosed()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await Edge(origin.Url, "  max_connections: 2");
        using var c1 = new TcpClient();
        using var c2 = new TcpClient();
        await c1.ConnectAsync(edge.Url.Host, edge.Url.Port);
        await c2.ConnectAsync(edge.Url.Host, edge.Url.Port);
        // Make sure both are accepted and counted before the third arrives.
        foreach (var c in new[] { c1, c2 })
        {
            await c.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
            var buf = new byte[1024];
            Assert.True(await c.GetStream().ReadAsync(buf) > 0);
        }
        var third = await RawHttp.SendAsync(edge.Url, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("", third);
    }
}
