using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Portway.Agent;
using Portway.Configuration;
using Portway.Edge.Tunnels;
using Portway.Protocol;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Tunnels;

/// <summary>Who may open which tunnel (tokens, names) and who may visit it (basic auth, CIDR rules).</summary>
public sealed class TunnelAccessTests
{
    [Fact]
    public async Task BadToken_RefusedWithClearMessage()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(TunnelLifecycleTests.TokenConfig("alice", "right-token"));

        var e = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url), token: "wrong-token"));

        Assert.Equal(401, e.Status);
        Assert.Equal(LinkErrorCodes.TokenInvalid, e.Code);
        Assert.True(e.Permanent);
        Assert.Contains("token is not valid", e.Message);
    }

    [Fact]
    public async Task MissingToken_WhenEdgeHasTokens_Refused()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(TunnelLifecycleTests.TokenConfig("alice", "right-token"));

        var e = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url)));

        Assert.Equal(LinkErrorCodes.TokenRequired, e.Code);
        Assert.Contains("--token", e.Message);
    }

    [Fact]
    [CoversKey("tunnels.tokens[].reserved_names")]
    public async Task ReservedName_OtherTokenCannotTakeIt_EvenWhileOwnerOffline()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync($"""
            tunnels:
              tokens:
                - name: alice
                  sha256: {TokenAuthenticator.Hash("alice-token")}
                  reserved_names: [blog]
                - name: mallory
                  sha256: {TokenAuthenticator.Hash("mallory-token")}
                  allowed_patterns: ["*"]
            """);

        var e = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "blog"), token: "mallory-token"));
        Assert.Equal(403, e.Status);
        Assert.Equal(LinkErrorCodes.NameNotAllowed, e.Code);
        Assert.Contains("reserved for another token", e.Message);

        await using var owner = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "blog"), token: "alice-token");
        Assert.StartsWith("http://blog.localhost:", owner.Url.ToString());
    }

    [Fact]
    public async Task NameInUse_SecondAgentWithoutPooling_Refused()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        await using var first = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "demo"));

        var e = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "demo")));

        Assert.Equal(409, e.Status);
        Assert.Contains("in use by another agent", e.Message);
    }

    [Fact]
    public async Task TokenWithoutNames_MayOnlyUseRandomNames()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(TunnelLifecycleTests.TokenConfig("ci", "ci-token"));

        var e = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "prod"), token: "ci-token"));
        Assert.Contains("run without --name", e.Message);

        await using var ok = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url), token: "ci-token");
        using var client = TunnelClient.Create();
        Assert.Equal("local", await client.GetStringAsync(ok.Url));
    }

    [Fact]
    public void DevMode_NonLoopbackAgent_NeedsToken()
    {
        var result = TokenAuthenticator.Authenticate(new TunnelsConfig(), null, IPAddress.Parse("203.0.113.9"));

        Assert.False(result.Success);
        Assert.Equal(LinkErrorCodes.TokenRequired, result.Code);
        Assert.True(TokenAuthenticator.Authenticate(new TunnelsConfig(), null, IPAddress.IPv6Loopback).Success);
    }

    [Fact]
    public async Task BasicAuth_RequiredAndChecked()
    {
        await using var origin = await TestOrigin.StartAsync("local", ctx => Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(ctx.Response, $"auth={ctx.Request.Headers.Authorization}"));
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url) with { BasicAuth = [("ann", "s3cret")] });
        using var client = TunnelClient.Create();

        var none = await client.GetAsync(agent.Url);
        await TunnelAssert.StatusAsync(HttpStatusCode.Unauthorized, none);
        Assert.Contains("Basic", none.Headers.WwwAuthenticate.ToString());

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithAuth(client, agent.Url, "ann:wrong")).StatusCode);
        var ok = await SendWithAuth(client, agent.Url, "ann:s3cret");
        await TunnelAssert.StatusAsync(HttpStatusCode.OK, ok);
        Assert.Equal(0, origin.Requests - 1);
    }

    [Theory]
    [InlineData("deny", "127.0.0.0/8", HttpStatusCode.Forbidden)]
    [InlineData("allow", "10.0.0.0/8", HttpStatusCode.Forbidden)]
    [InlineData("allow", "127.0.0.1/32", HttpStatusCode.OK)]
    [InlineData("deny", "10.0.0.0/8", HttpStatusCode.OK)]
    public async Task CidrRules_AppliedToVisitorAddress(string kind, string cidr, HttpStatusCode expected)
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        var network = IPNetwork.Parse(cidr);
        var tunnel = TestAgent.Http(origin.Url) with { AllowCidrs = kind == "allow" ? [network] : [], DenyCidrs = kind == "deny" ? [network] : [] };
        await using var agent = await TestAgent.StartAsync(edge.Url, tunnel);
        using var client = TunnelClient.Create();

        var response = await client.GetAsync(agent.Url);

        await TunnelAssert.StatusAsync(expected, response);
        if (expected == HttpStatusCode.Forbidden) Assert.Contains("127.0.0.1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task VisitorCannotForgeClientIpOrTunnelHeaders()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url) with { AllowCidrs = [IPNetwork.Parse("10.0.0.0/8")] });
        using var client = TunnelClient.Create();

        using var request = new HttpRequestMessage(HttpMethod.Get, agent.Url);
        request.Headers.TryAddWithoutValidation(LinkProtocol.StreamClientIpHeader, "10.1.2.3");
        request.Headers.TryAddWithoutValidation(LinkProtocol.StreamKindHeader, "tcp");
        var response = await client.SendAsync(request);

        await TunnelAssert.StatusAsync(HttpStatusCode.Forbidden, response);
    }

    private static Task<HttpResponseMessage> SendWithAuth(HttpClient client, Uri url, string credentials)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client.SendAsync(request);
    }
}
