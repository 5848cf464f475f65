using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// limits keys whose defaults would let the existing slow-client tests pass too: a rate above the
/// default minimum, a grace period longer than the default, a keep-alive timeout far below it.
/// (Header, line and body sizes, header timeout and connection count are in SecurityTests and SlowClientTests.)
/// </summary>
public sealed class LimitsKeysTests
{
    [Fact]
    [CoversKey("limits.min_data_rate", "limits.min_data_rate_grace")]
    public async Task MinDataRate_BodyAt1000BytesPerSecond_CutOffAfterTheGracePeriod()
    {
        await using var origin = await TestOrigin.StartAsync("a", async ctx =>
        {
            await ctx.Request.Body.CopyToAsync(Stream.Null);
            await ctx.Response.WriteAsync("done");
        });
        // 1000 B/s passes the default minimum (240 B/s) and fails this one; the grace period (8 s) is
        // longer than the default (5 s), so a cut-off before about 7 s would mean the key was ignored.
        await using var edge = await TestEdge.StartAsync($"""
            limits:
              min_data_rate: 10k
              min_data_rate_grace: 8s
            {TestEdge.OneRoute(origin.Url)}
            """);
        using var client = new TcpClient();
        await client.ConnectAsync(edge.Url.Host, edge.Url.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"));

        var cutOff = await TrickleUntilClosedAsync(client, bytesPerTick: 100, TimeSpan.FromSeconds(25));

        Assert.True(cutOff is not null, "the edge kept a body arriving at 1000 B/s against a 10 kB/s minimum");
        Assert.True(cutOff >= TimeSpan.FromSeconds(6.5), $"cut off after {cutOff}: before the 8 s grace period ended");
    }

    [Fact]
    [CoversKey("limits.keep_alive_timeout")]
    public async Task KeepAliveTimeout_IdleConnectionClosedLongBeforeTheDefault()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            limits:
              keep_alive_timeout: 2s
            {TestEdge.OneRoute(origin.Url)}
            """);
        using var client = new TcpClient();
        await client.ConnectAsync(edge.Url.Host, edge.Url.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        var buffer = new byte[4096];
        var first = await stream.ReadAsync(buffer);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, first));

        // Idle now: the edge closes the connection (read returns 0). The default (75 s) would outlast this wait.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watch = Stopwatch.StartNew();
        int n;
        while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0) { }
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), $"closed after {watch.Elapsed}, before the connection was idle for 2 s");
    }

    /// <summary>Writes <paramref name="bytesPerTick"/> every 100 ms; returns when the edge closed the connection, or null if it never did.</summary>
    private static async Task<TimeSpan?> TrickleUntilClosedAsync(TcpClient client, int bytesPerTick, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        var stream = client.GetStream();
        var chunk = new byte[bytesPerTick];
        while (watch.Elapsed < limit)
        {
            try
            {
                await stream.WriteAsync(chunk);
                // The pacing is the point of the test (a slow client), not a wait for a condition.
                await Task.Delay(100);
                if (client.Client.Poll(0, SelectMode.SelectRead)) return watch.Elapsed; // closed, or a 408 arrived
            }
            catch (IOException)
            {
                return watch.Elapsed;
            }
        }
        return null;
    }
}
