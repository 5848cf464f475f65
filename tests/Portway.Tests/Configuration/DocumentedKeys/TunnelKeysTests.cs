using System.Net;
using System.Net.Sockets;
using Portway.Agent;
using Portway.Edge.Tunnels;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>tunnels keys, with real agents dialing a real edge (reserved names, pooling and bad tokens are in TunnelAccessTests/TunnelLifecycleTests).</summary>
public sealed class TunnelKeysTests
{
    private static string Token(string name, string token, string extra = "") => $"""
            - name: {name}
              sha256: {TokenAuthenticator.Hash(token)}
              {extra}
        """;

    [Fact]
    [CoversKey("tunnels.domains")]
    public async Task Domains_Configured_TunnelNamedUnderItAndReachable()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("tunnels:\n  domains: [tunnels.test]\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "demo"));

        Assert.Equal($"http://demo.tunnels.test:{edge.Url.Port}/", agent.Url.ToString());
        using var client = Tls.TlsClient.Create(edge.Url.Port, null);
        Assert.Equal("local", await client.GetStringAsync(agent.Url));
    }

    [Fact]
    [CoversKey("tunnels.tokens[].allowed_patterns", "tunnels.tokens[].name", "tunnels.tokens[].sha256")]
    public async Task AllowedPatterns_NameMatching_AcceptedOtherRefusedNamingTheToken()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("tunnels:\n  tokens:\n" + Token("alice", "alice-token", "allowed_patterns: [\"alice-*\"]"));

        await using var ok = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-demo"), token: "alice-token");
        var refused = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "bob-demo"), token: "alice-token"));

        Assert.StartsWith("http://alice-demo.localhost:", ok.Url.ToString());
        Assert.Contains("Token 'alice' may not use the name 'bob-demo'", refused.Message);
    }

    [Fact]
    [CoversKey("tunnels.tokens[].max_tunnels")]
    public async Task MaxTunnels_One_SecondAgentOnTheTokenRefused()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("tunnels:\n  tokens:\n" + Token("ci", "ci-token", "max_tunnels: 1"));

        await using var first = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url), token: "ci-token");
        var refused = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url), token: "ci-token"));

        Assert.Contains("may hold 1 tunnel(s)", refused.Message);
    }

    [Fact]
    [CoversKey("tunnels.tokens[].allow_tcp")]
    public async Task AllowTcp_False_TcpTunnelRefusedHttpAccepted()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("tunnels:\n  tcp_ports: 0\n  tokens:\n" + Token("web", "web-token", "allow_tcp: false"));

        await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Tcp(local.Port), token: "web-token"));
        await using var http = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url), token: "web-token");
    }

    [Fact]
    [CoversKey("tunnels.tcp_ports")]
    public async Task TcpPorts_SinglePortRange_TunnelListensThere()
    {
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        var port = Probe.FreePort();
        await using var edge = await TestEdge.StartAsync($"tunnels:\n  tcp_ports: {port}-{port}\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Tcp(((IPEndPoint)echo.LocalEndpoint).Port));

        Assert.Equal(port, agent.Url.Port);
        using var visitor = new TcpClient();
        await visitor.ConnectAsync(IPAddress.Loopback, port);
        using var accepted = await echo.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    [CoversKey("tunnels.reconnect_grace")]
    public async Task ReconnectGrace_Short_NameFreedForAnotherTokenSoonAfterTheOwnerLeaves()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("tunnels:\n  reconnect_grace: 1s\n  tokens:\n"
            + Token("alice", "alice-token", "allowed_patterns: [\"*\"]") + "\n" + Token("bob", "bob-token", "allowed_patterns: [\"*\"]"));
        var owner = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "shared"), token: "alice-token");
        await owner.DisposeAsync();

        // Within the grace the name is still alice's; once it ends (1 s here, 60 s by default) bob may take it.
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await using var taker = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "shared"), token: "bob-token");
                return true;
            }
            catch (LinkRefusedException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "the name is released after the 1 s grace");
    }
}
