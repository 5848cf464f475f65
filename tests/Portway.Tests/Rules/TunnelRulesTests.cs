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

    [Fact]
    [CoversKey("tunnels.by_name[].names", "tunnels.by_name[].rules[].ip.allow")]
    public async Task ByName_RulesForMatchingTunnelNames_AfterTheTokensRules()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync($$"""
            tunnels:
              tokens:
                - name: team
                  sha256: {{TokenAuthenticator.Hash("team-token")}}
                  allowed_patterns: ["*"]
                  rules:
                    - headers: { response: { add: { X-Rules: token } } }
              by_name:
                - names: [shop, "demo-*"]
                  rules:
                    - headers: { response: { add: { X-Rules: shop-or-demo } } }
                - names: ["demo-*"]
                  rules:
                    - respond: { status: 403, body: demos are closed }
                - names: [blog]
                  rules:
                    - ip: { allow: [10.0.0.0/8] }
            """);
        await using var shop = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "shop"), token: "team-token");
        await using var demo = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "demo-7"), token: "team-token");
        await using var other = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "blog"), token: "team-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using var served = await client.GetAsync(shop.Url);
        Assert.Equal("local", await served.Content.ReadAsStringAsync());
        Assert.Equal(["token", "shop-or-demo"], served.Headers.GetValues("X-Rules"));

        // Both entries match demo-7, in file order: the second one answers.
        using var refused = await client.GetAsync(demo.Url);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("demos are closed", await refused.Content.ReadAsStringAsync());
        Assert.Equal(["token", "shop-or-demo"], refused.Headers.GetValues("X-Rules"));

        // blog matches only the last entry: its ip rule refuses this loopback client.
        using var blog = await client.GetAsync(other.Url);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, blog.StatusCode);
        Assert.Equal(["token"], blog.Headers.GetValues("X-Rules"));
        Assert.Equal(1, local.Requests);
    }

    [Theory]
    [InlineData("names: ['demo-**'], rules: [{ ip: { deny: [10.0.0.0/8] } }]", "t.yaml:3:17: tunnels.by_name[0].names: 'demo-**' is not a tunnel name or pattern; write it like shop or demo-* (letters, digits, '-', one '*')")]
    [InlineData("rules: [{ ip: { deny: [10.0.0.0/8] } }]", "t.yaml:3:7: tunnels.by_name[0].names: is required: the tunnel names (or patterns like demo-*) these rules are for")]
    [InlineData("names: [shop], rules: [], rulez: []", "t.yaml:3:35: tunnels.by_name[0].rulez: unknown key; did you mean 'rules'? (allowed here: names, rules)")]
    public void Load_BadByName_LocatedError(string entry, string expected)
    {
        var yaml = $$"""
            tunnels:
              by_name:
                - { {{entry}} }
            """;
        var error = Assert.Throws<Portway.Configuration.ConfigException>(() => Portway.Configuration.ConfigLoader.Parse(yaml, "t.yaml"));
        Assert.StartsWith(expected, Assert.Single(error.Errors).ToString());
    }
}
