using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Portway.Configuration;
using Portway.Edge;
using Portway.Edge.Tunnels;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>Edge shutdown drains requests in flight through tunnels, and idle tunnels do not hold it.</summary>
public sealed class TunnelDrainTests
{
    /// <summary>Well under the edge's 30 s shutdown timeout: a stop that waited for it fails here.</summary>
    private static readonly TimeSpan PromptStop = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EdgeStops_RequestInFlightThroughTunnel_VisitorGetsFullResponseThenStopCompletes()
    {
        const long length = 1024 * 1024;
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            received.TrySetResult();
            await gate.Task;
            ctx.Response.ContentLength = length;
            sent.TrySetResult(await Payload.WriteAsync(ctx.Response.Body, length, seed: 3));
        });
        var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create(TimeSpan.FromSeconds(30));

        var visitor = client.GetAsync(agent.Url, HttpCompletionOption.ResponseHeadersRead);
        await Wait.UntilAsync(() => received.Task.IsCompleted, because: "the local server has the request");
        await Wait.UntilAsync(() => agent.Status.Links == 2, because: "the agent has the active link and one spare");
        var stopping = edge.DisposeAsync().AsTask();
        // The server stops accepting and drains; the spare closes at once, the active link must outlive both.
        await Wait.UntilAsync(async () => !await AcceptsAsync(edge.Url), because: "the stopping edge closes its listener");
        await Wait.UntilAsync(() => agent.Status.Links == 1, because: "the edge closes the idle spare at once");
        Assert.False(stopping.IsCompleted, "the stop waits for the tunnel request");
        gate.SetResult();

        using var response = await visitor.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (receivedLength, sha) = await Payload.HashAsync(await response.Content.ReadAsStreamAsync());
        Assert.Equal(length, receivedLength);
        Assert.Equal(await sent.Task, sha);
        await stopping.WaitAsync(PromptStop);
    }

    [Fact]
    public async Task EdgeStops_TunnelsIdle_StopCompletesPromptly()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        using var tcpLocal = new TcpListener(IPAddress.Loopback, 0);
        tcpLocal.Start();
        var edge = await TestEdge.StartAsync("tunnels:\n  tcp_ports: 0\n");
        await using var http = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        await using var tcp = await TestAgent.StartAsync(edge.Url, TestAgent.Tcp(((IPEndPoint)tcpLocal.LocalEndpoint).Port));
        using var client = TunnelClient.Create();
        // One served request: the HTTP tunnel now has an idle active link beside its spare.
        Assert.Equal("local", await client.GetStringAsync(http.Url));
        // An open TCP tunnel connection: long-lived, so it ends with the stop rather than holding it.
        using var visitor = new TcpClient();
        await visitor.ConnectAsync(IPAddress.Loopback, tcp.Url.Port);
        using var accepted = await tcpLocal.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));

        await edge.DisposeAsync().AsTask().WaitAsync(PromptStop);
    }

    [Fact]
    public async Task EdgeStops_RequestOutlivesShutdownTimeout_Visitor502AndStopCompletesCleanly()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            received.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        });
        // 5 s instead of the edge's 30 s: the links close at 3 s, before the host gives up on the server's drain.
        var dir = Directory.CreateTempSubdirectory("portway-test-");
        var path = Path.Combine(dir.FullName, "portway.yaml");
        await File.WriteAllTextAsync(path, TestEdge.WithTestDefaults(""));
        await using var edge = EdgeHost.Create(ConfigLoader.LoadFile(path), path,
            s => s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5)));
        await edge.StartAsync();
        await using var agent = await TestAgent.StartAsync(edge.ProxyUrl, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create(TimeSpan.FromSeconds(30));

        var visitor = client.GetAsync(agent.Url);
        await Wait.UntilAsync(() => received.Task.IsCompleted, because: "the local server has the request");
        var stopping = edge.StopAsync();

        // A page, not a reset: the edge closed the link itself and the server's drain then finished.
        using var response = await visitor.WaitAsync(PromptStop);
        await TunnelAssert.StatusAsync(HttpStatusCode.BadGateway, response);
        await stopping.WaitAsync(PromptStop);
    }

    [Fact]
    public async Task Sigterm_TunnelRequestOutlastsTwoSeconds_VisitorGets200ThenExit0()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            received.TrySetResult();
            await gate.Task;
            await ctx.Response.WriteAsync("slow answer");
        });
        var dir = Directory.CreateTempSubdirectory("portway-test-");
        var config = Path.Combine(dir.FullName, "portway.yaml");
        await File.WriteAllTextAsync(config, TestEdge.WithTestDefaults(""));
        await using var portway = PortwayProcess.Start("serve", "--config", config);
        await Wait.UntilAsync(() => Regex.IsMatch(portway.Stdout, @"listening on http://\S+\s+proxy") || portway.HasExited, TimeSpan.FromSeconds(30), "the edge starts");
        var edgeUrl = new Uri(Regex.Match(portway.Stdout, @"listening on (http://\S+)\s+proxy").Groups[1].Value);
        await using var agent = await TestAgent.StartAsync(edgeUrl, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create(TimeSpan.FromSeconds(30));

        var visitor = client.GetAsync(agent.Url);
        await Wait.UntilAsync(() => received.Task.IsCompleted, because: "the local server has the request");
        portway.Terminate();
        // Past System.CommandLine's default 2 s termination timeout, which ended the process mid-drain.
        var until = DateTime.UtcNow.AddSeconds(3);
        await Wait.UntilAsync(() => portway.HasExited || DateTime.UtcNow > until, TimeSpan.FromSeconds(10));
        Assert.False(portway.HasExited, "the edge waits for the tunnel request");
        gate.SetResult();

        using var response = await visitor.WaitAsync(PromptStop);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("slow answer", await response.Content.ReadAsStringAsync());
        await portway.WaitForExitAsync(PromptStop);
        Assert.Equal(0, portway.ExitCode);
        Assert.Contains("[631]", portway.Stdout);
    }

    [Fact]
    public async Task WaitIdle_NothingInFlight_TrueAtOnce()
    {
        var drain = new TunnelDrain();
        drain.Enter().Dispose();

        var idle = drain.WaitIdleAsync(TimeSpan.FromSeconds(30), new FakeTimeProvider());

        Assert.True(idle.IsCompleted);
        Assert.True(await idle);
    }

    [Fact]
    public async Task WaitIdle_LastRequestEnds_True()
    {
        var drain = new TunnelDrain();
        var first = drain.Enter();
        var second = drain.Enter();
        var idle = drain.WaitIdleAsync(TimeSpan.FromSeconds(30), new FakeTimeProvider());

        first.Dispose();
        Assert.False(idle.IsCompleted);
        var third = drain.Enter(); // arrived during the drain, before the listeners stopped
        second.Dispose();
        Assert.False(idle.IsCompleted);
        third.Dispose();

        Assert.True(await idle.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, drain.InFlight);
    }

    [Fact]
    public async Task WaitIdle_RequestOutlivesTimeout_False()
    {
        var time = new FakeTimeProvider();
        var drain = new TunnelDrain();
        using var stuck = drain.Enter();
        var idle = drain.WaitIdleAsync(TimeSpan.FromSeconds(28), time);

        time.Advance(TimeSpan.FromSeconds(27));
        Assert.False(idle.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await idle.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, drain.InFlight);
    }

    [Theory]
    [InlineData(30, 28)]
    [InlineData(3, 1.5)]
    public void Budget_LeavesTheCloseMarginOfTheShutdownTimeout(double timeoutSeconds, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), TunnelShutdown.Budget(TimeSpan.FromSeconds(timeoutSeconds)));
        Assert.Equal(Timeout.InfiniteTimeSpan, TunnelShutdown.Budget(Timeout.InfiniteTimeSpan));
    }

    private static async Task<bool> AcceptsAsync(Uri edge)
    {
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, edge.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
