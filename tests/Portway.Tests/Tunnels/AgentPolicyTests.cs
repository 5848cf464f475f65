using System.Net;
using System.Net.Http.Headers;
using Portway.Agent;
using Portway.Edge.Tunnels;
using Portway.Protocol;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>The agent's --policy (docs/tunnels.md#agent-policy): rules it sends, the edge checks again and applies after its own.</summary>
public sealed class AgentPolicyTests
{
    private static string Edge(string aliceRules = "") => $$"""
        tunnels:
          tokens:
            - name: alice
              sha256: {{TokenAuthenticator.Hash("alice-token")}}
              allowed_patterns: ["*"]
              allow_pooling: true
        {{aliceRules}}
        """;

    private static AgentTunnelOptions WithPolicy(Uri local, string name, string policy) => TestAgent.Http(local, name: name) with { Policy = policy };

    [Fact]
    public async Task IpDeny_FromThePolicy_RefusesOnTheEdge()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge());
        await using var agent = await TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "alice-app", "rules:\n  - ip: { deny: [127.0.0.0/8, '::1'] }\n"), token: "alice-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using var refused = await client.GetAsync(agent.Url);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("127.0.0.1", await refused.Content.ReadAsStringAsync());
        Assert.Equal(0, local.Requests);
    }

    [Fact]
    public async Task BasicAuth_FromThePolicy_Asks_AndLetsTheUserIn()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword("pw", 4);
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge());
        await using var agent = await TestAgent.StartAsync(edge.Url,
            WithPolicy(local.Url, "alice-app", $"rules:\n  - basic_auth: {{ realm: demo, users: [{{ name: ann, password_hash: '{hash}' }}] }}\n"), token: "alice-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using var asked = await client.GetAsync(agent.Url);
        Assert.Equal(HttpStatusCode.Unauthorized, asked.StatusCode);
        Assert.Contains("realm=\"demo\"", asked.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, local.Requests);

        using var request = new HttpRequestMessage(HttpMethod.Get, agent.Url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("ann:pw"u8.ToArray()));
        using var served = await client.SendAsync(request);
        Assert.Equal("local", await served.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Policy_CannotSwitchOffTheTokensRules_ItsOwnComeAfter()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge("""
                  rules:
                    - headers: { response: { add: { X-Order: token } } }
                    - ip: { deny: [127.0.0.0/8, '::1'] }
            """));
        // The agent tries to let everyone in and to answer before the operator's check could run.
        await using var agent = await TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "alice-app", """
            rules:
              - headers: { response: { add: { X-Order: agent } } }
              - ip: { allow: ['0.0.0.0/0', '::/0'] }
              - respond: { status: 200, body: 'the agent answered' }
            """), token: "alice-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using var refused = await client.GetAsync(agent.Url);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(["token"], refused.Headers.GetValues("X-Order"));
        Assert.DoesNotContain("the agent answered", await refused.Content.ReadAsStringAsync());
        Assert.Equal(0, local.Requests);
    }

    [Fact]
    public async Task InvalidPolicyFile_IsAnAgentErrorWithFileLineColumn_BeforeDialing()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("portway-policy-").FullName, "policy.yaml");
        await File.WriteAllTextAsync(file, "rules:\n  - ip: { deny: [10.0.0.0/99] }\n  - ipp: {}\n");
        // No edge at all: the file is checked before anything is dialed.
        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", "3000", "--policy", file, "--edge", "http://127.0.0.1:9", "--inspect", "false");

        Assert.Equal(2, exit);
        Assert.Contains($"--policy: {file}:2:18: rules[0].ip.deny: '10.0.0.0/99' is not an address or CIDR", stderr);
        Assert.Contains($"--policy: {file}:3:5: rules[1]: unknown rule 'ipp'; did you mean 'ip'?", stderr);
    }

    [Fact]
    public async Task Edge_ChecksThePolicyAgain_RefusingTheLinkWithTheLocatedProblem()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge());

        // An agent that skipped its own check (or is not a Portway agent at all).
        var bad = await Assert.ThrowsAsync<LinkRefusedException>(() =>
            TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "alice-app", "rules:\n  - geo: { allow: [office] }\n"), token: "alice-token"));
        Assert.Equal(LinkErrorCodes.BadPolicy, bad.Code);
        Assert.Contains("policy:2:5: rules[0]: 'geo' may not be used in an agent's policy", bad.Message);

        var huge = await Assert.ThrowsAsync<LinkRefusedException>(() =>
            TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "alice-app", "rules:\n  - respond: { body: '" + new string('x', 9000) + "' }\n"), token: "alice-token"));
        Assert.Equal(LinkErrorCodes.BadPolicy, huge.Code);
        Assert.Contains("a policy may be at most 8192 bytes", huge.Message);
    }

    [Fact]
    public async Task PooledAgents_MustBringTheSamePolicy()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge());
        const string policy = "rules:\n  - headers: { response: { set: { X-Policy: one } } }\n";
        await using var first = await TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "shared", policy), token: "alice-token");
        await using var same = await TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "shared", policy), token: "alice-token");

        var other = await Assert.ThrowsAsync<LinkRefusedException>(() =>
            TestAgent.StartAsync(edge.Url, WithPolicy(local.Url, "shared", "rules:\n  - headers: { response: { set: { X-Policy: two } } }\n"), token: "alice-token"));
        Assert.Equal(LinkErrorCodes.BadPolicy, other.Code);
        Assert.Contains("a different --policy file", other.Message);

        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);
        using var response = await client.GetAsync(first.Url);
        Assert.Equal(["one"], response.Headers.GetValues("X-Policy"));
    }
}
