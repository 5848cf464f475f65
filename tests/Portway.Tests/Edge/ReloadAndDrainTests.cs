using System.Net;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Edge;

public sealed class ReloadAndDrainTests
{
    private static string Config(Uri origin) => TestEdge.OneRoute(origin);

    [Fact]
    public async Task FileEdit_UnderConcurrentLoad_SwitchesWithZeroFailedRequests()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(Config(a.Url));
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var seenB = 0;
        var total = 0;
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            // Each worker keeps its keep-alive connection across the reload.
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = edge.Url };
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var response = await client.GetAsync("/");
                    var body = await response.Content.ReadAsStringAsync();
                    Interlocked.Increment(ref total);
                    if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
                    else if (body == "b") Interlocked.Increment(ref seenB);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        await Wait.UntilAsync(() => Volatile.Read(ref total) > 200, because: "load running before the edit");
        await edge.RewriteAsync(Config(b.Url));
        await Wait.UntilAsync(() => Volatile.Read(ref seenB) > 200, because: "new cluster serving after the edit");
        stop.Cancel();
        await Task.WhenAll(workers);
        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task FileEdit_Invalid_KeepsRunningConfig()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(a.Url));
        var before = edge.Host.State.Current;
        await edge.RewriteAsync("routes:\n  - id: web\n    cluster: missing\n");
        // Then a valid edit proves the watcher ran after the invalid one was rejected.
        await edge.RewriteAsync(Config(a.Url).Replace("id: web", "id: web2"));
        await Wait.UntilAsync(() => edge.Host.State.Current.Routes[0].Id == "web2");
        Assert.NotSame(before, edge.Host.State.Current);
        Assert.Equal("a", await edge.Client.GetStringAsync("/"));
    }

    [Fact]
    public async Task Apply_InvalidInBetween_RequestsStillServed()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(a.Url));
        await edge.RewriteAsync("routes: [");
        // The broken file is detected and logged; serving goes on with the old routes.
        for (var i = 0; i < 20; i++) Assert.Equal("a", await edge.Client.GetStringAsync("/"));
        Assert.Equal("web", edge.Host.State.Current.Routes[0].Id);
    }

    [Fact]
    public async Task Stop_InFlightRequest_CompletesBeforeShutdown()
    {
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            started.TrySetResult();
            await release.Task;
            await ctx.Response.WriteAsync("finished");
        });
        var edge = await TestEdge.StartAsync(Config(slow.Url));
        var inFlight = edge.Client.GetStringAsync("/");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stopping = edge.Host.StopAsync();
        // New connections are refused while draining…
        await Wait.UntilAsync(async () =>
        {
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                await c.ConnectAsync(edge.Url.Host, edge.Url.Port);
                return false;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return true;
            }
        }, because: "listener closed during drain");
        Assert.False(stopping.IsCompleted);
        // …and the request that was in flight still gets its full answer.
        release.SetResult();
        Assert.Equal("finished", await inFlight);
        await stopping;
        await edge.DisposeAsync();
    }
}
