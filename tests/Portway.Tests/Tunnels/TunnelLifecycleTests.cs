using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Portway.Agent;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Tunnels;

/// <summary>Agents and edges coming and going: offline pages, reconnects, grace, pooling, failures.</summary>
public sealed class TunnelLifecycleTests
{
    [Fact]
    public async Task AgentStops_OfflinePageWithinOneSecond()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();
        var url = new Uri(agent.Url, "/");
        Assert.Equal("local", await client.GetStringAsync(url));

        await agent.DisposeAsync();
        var watch = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await client.GetAsync(url)).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(1), "the edge answers 503 within a second of the agent going away");

        var page = await client.GetStringAsync(url).ContinueWith(_ => client.GetAsync(url)).Unwrap();
        Assert.Contains("offline", await page.Content.ReadAsStringAsync());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AgentProcessKilled_OfflinePageWithinOneSecond()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = PortwayProcess.Start("http", origin.Port.ToString(), "--edge", edge.Url.ToString(), "--inspect", "false");
        await Wait.UntilAsync(() => agent.Stdout.Contains("Forwarding ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the agent prints its URL");
        var line = agent.Stdout.Split('\n').First(l => l.StartsWith("Forwarding ", StringComparison.Ordinal));
        var url = new Uri(line.Split(' ')[1]);
        Assert.EndsWith($" -> http://localhost:{origin.Port}", line.TrimEnd());
        using var client = TunnelClient.Create();
        await Wait.UntilAsync(async () => (await client.GetAsync(url)).StatusCode == HttpStatusCode.OK, because: "the tunnel works");

        Process.GetProcessById(agent.Id).Kill(); // SIGKILL: no goodbye on the links
        await Wait.UntilAsync(async () => (await client.GetAsync(url)).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(1), "the edge answers 503 within a second of the agent dying");
    }

    [Fact]
    public async Task EdgeRestarts_AgentReconnectsAndSameUrlWorks()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        var first = await TestEdge.StartAsync("");
        var port = first.Url.Port;
        await using var agent = await TestAgent.StartAsync(first.Url, TestAgent.Http(origin.Url));
        var url = agent.Url;
        using var client = TunnelClient.Create();
        Assert.Equal("local", await client.GetStringAsync(url));

        await first.DisposeAsync();
        await Wait.UntilAsync(() => agent.Status.State == SessionState.Reconnecting, because: "the agent notices the edge is gone");
        await using var second = await TestEdge.StartAsync($"listeners:\n  - url: http://127.0.0.1:{port}\n");
        await Wait.UntilAsync(() => agent.Status.State == SessionState.Online, TimeSpan.FromSeconds(20), "the agent reconnects");

        Assert.Equal(url, agent.Url);
        Assert.Equal("local", await client.GetStringAsync(url));
    }

    [Fact]
    public async Task LocalServerDown_502NamesTheLocalAddress()
    {
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(new Uri($"http://localhost:{closedPort}")));
        using var client = TunnelClient.Create();

        var response = await client.GetAsync(agent.Url);

        await TunnelAssert.StatusAsync(HttpStatusCode.BadGateway, response);
        Assert.Contains($"the agent could not connect to localhost:{closedPort}", await response.Content.ReadAsStringAsync());
        Assert.Contains(agent.Status.RecentEvents, e => e.Contains($"could not connect to localhost:{closedPort}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LinkLostMidRequest_Visitor502NothingHangs()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            received.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        });
        await using var edge = await TestEdge.StartAsync("");
        var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create(TimeSpan.FromSeconds(20));

        var pending = client.GetAsync(agent.Url);
        await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await agent.DisposeAsync();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        await TunnelAssert.StatusAsync(HttpStatusCode.BadGateway, response);
    }

    [Fact]
    [CoversKey("tunnels.tokens[].allow_pooling")]
    public async Task Pooling_TwoAgentsSameName_ShareTheTraffic()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(TokenConfig("team", "secret-team", "reserved_names: [shop]\n      allow_pooling: true"));
        await using var agentA = await TestAgent.StartAsync(edge.Url, TestAgent.Http(a.Url, name: "shop"), token: "secret-team");
        await using var agentB = await TestAgent.StartAsync(edge.Url, TestAgent.Http(b.Url, name: "shop"), token: "secret-team");
        Assert.Equal(agentA.Url, agentB.Url);
        using var client = TunnelClient.Create();

        var seen = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };
        for (var i = 0; i < 20; i++) seen[await client.GetStringAsync(agentA.Url)]++;

        Assert.True(seen["a"] >= 5 && seen["b"] >= 5, $"both agents take traffic: a={seen["a"]} b={seen["b"]}");
    }

    [Fact]
    public async Task IdleSpareLink_SurvivesPastKestrelTimeouts()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("limits:\n  keep_alive_timeout: 2s\n  min_data_rate_grace: 2s\n  request_headers_timeout: 2s\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        var links = agent.Status.Links;
        var dropped = false;
        agent.Status.Event += m => dropped |= m.Contains("lost", StringComparison.Ordinal);

        // Longer than every per-connection timeout above and than one standby ping round (5 s).
        var until = DateTime.UtcNow.AddSeconds(7);
        await Wait.UntilAsync(() => DateTime.UtcNow > until || dropped, TimeSpan.FromSeconds(10));

        Assert.False(dropped);
        Assert.Equal(links, agent.Status.Links);
        using var client = TunnelClient.Create();
        Assert.Equal("local", await client.GetStringAsync(agent.Url));
    }

    /// <summary>Regression: with KeepAliveTimeout = InfiniteTimeSpan the agent's Kestrel closed idle links within a second.</summary>
    [Fact]
    public async Task IdleActiveLink_ReusedAcrossRequests_NoRedial()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();
        await client.GetStringAsync(agent.Url);
        var dialed = agent.Host.Links.Dialed;

        for (var i = 0; i < 3; i++)
        {
            // Idle for longer than Kestrel's one-second heartbeat, then use the link again.
            var until = DateTime.UtcNow.AddSeconds(1.5);
            await Wait.UntilAsync(() => DateTime.UtcNow > until);
            Assert.Equal("local", await client.GetStringAsync(agent.Url));
        }

        Assert.Equal(dialed, agent.Host.Links.Dialed);
    }

    internal static string TokenConfig(string name, string token, string extra = "") => $"""
        tunnels:
          tokens:
            - name: {name}
              sha256: {Portway.Edge.Tunnels.TokenAuthenticator.Hash(token)}
              {extra}
        """ + "\n";
}
