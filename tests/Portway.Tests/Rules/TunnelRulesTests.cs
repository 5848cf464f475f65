using Portway.Edge.Tunnels;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>Rules on tunnels: the global list, then the list of the token the agent dialed with, through real agents.</summary>
public sealed class TunnelRulesTests
{
    [Fact]
    [CoversKey("tunnels.tokens[].rules")]
    public async Task TokenRules_ApplyToThatTokensTunnelsOnly_AfterTheGlobalRules()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync($$"""
            rules:
              - headers: { response: { add: { X-Rules: global } } }
            tunnels:
              tokens:
                - name: alice
                  sha256: {{TokenAuthenticator.Hash("alice-token")}}
                  allowed_patterns: ["*"]
                  rules:
                    - headers: { response: { add: { X-Rules: alice } } }
                    - ip: { deny: [127.0.0.0/8] }
                - name: bob
                  sha256: {{TokenAuthenticator.Hash("bob-token")}}
                  allowed_patterns: ["*"]
            """);
        await using var alice = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-app"), token: "alice-token");
        await using var bob = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "bob-app"), token: "bob-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using var refused = await client.GetAsync(alice.Url);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(["global", "alice"], refused.Headers.GetValues("X-Rules"));

        using var served = await client.GetAsync(bob.Url);
        Assert.Equal("local", await served.Content.ReadAsStringAsync());
        Assert.Equal(["global"], served.Headers.GetValues("X-Rules"));
        Assert.Equal(1, local.Requests);
    }
}
