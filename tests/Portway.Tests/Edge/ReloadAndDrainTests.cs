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
    public async Task FileEdit_UnclosedFlowMapping_EdgeKeepsServingAndSaysWhere()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(a.Url));
        // The edit that once ended the process a second later (an exception on the reload timer).
        await File.WriteAllTextAsync(edge.ConfigPath, "routes:\n  - id: a\n    match: { path: \"/x\"\n  nonsense: [\n");
        await Wait.UntilAsync(() => edge.Host.LastReloadErrors is not null, because: "the broken edit is read and rejected");
        Assert.Equal($"{edge.ConfigPath}:4:3: not valid YAML: the '{{' at line 3, column 12 is never closed", edge.Host.LastReloadErrors!.Single().ToString());
        for (var i = 0; i < 10; i++) Assert.Equal("a", await edge.Client.GetStringAsync("/"));
        Assert.Equal("web", edge.Host.State.Current.Routes[0].Id);

        var metrics = await new HttpClient().GetStringAsync(new Uri(edge.AdminUrl, "/metrics"));
        Assert.Matches(@"portway_config_reloads_total\{[^}]*outcome=""rejected""[^}]*\} [1-9]", metrics);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n  \n")]
    public async Task FileEdit_Empty_KeepsRunningConfig(string empty)
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(a.Url));
        await File.WriteAllTextAsync(edge.ConfigPath, empty);
        await Wait.UntilAsync(() => edge.Host.LastReloadErrors is not null, because: "the empty save is noticed");
        Assert.Contains("the file is empty; keeping the running config", edge.Host.LastReloadErrors!.Single().Message);
        Assert.Equal("a", await edge.Client.GetStringAsync("/"));
        // The editor's real save follows and is applied.
        await edge.RewriteAsync(Config(a.Url).Replace("id: web", "id: web2"));
        // The reloader publishes the config, then clears the last errors: wait for both.
        await Wait.UntilAsync(() => edge.Host.State.Current.Routes[0].Id == "web2" && edge.Host.LastReloadErrors is null,
            because: "the real save is applied and the empty save's error cleared");
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
