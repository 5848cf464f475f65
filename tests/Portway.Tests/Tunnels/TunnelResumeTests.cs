using System.Net;
using System.Net.Sockets;
using System.Text;
using Portway.Edge.Tunnels;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>
/// <c>resume=</c> (protocol.md 1d) brings a name back after a restart, but only a name the token
/// could have had anyway: a hint, never a way around reserved_names and allowed_patterns.
/// Links are opened by hand so each test decides exactly what the agent asks for.
/// </summary>
public sealed class TunnelResumeTests
{
    private static string Config(string grace = "60s") => $"""
        tunnels:
          reconnect_grace: {grace}
          tokens:
            - name: alice
              sha256: {TokenAuthenticator.Hash("alice-token")}
              allowed_patterns: ["alice-*"]
              reserved_names: [blog]
            - name: bob
              sha256: {TokenAuthenticator.Hash("bob-token")}
              allowed_patterns: ["bob-*"]
        """;

    [Theory]
    [InlineData("alice-demo", true)]        // matches the token's pattern
    [InlineData("blog", true)]              // reserved for this token
    [InlineData("quiet-otter-3f9a", true)]  // a name the edge could have given at random
    [InlineData("stripe-hooks", false)]     // a pretty name the token may not ask for
    [InlineData("bob-demo", false)]         // another token's pattern
    [InlineData("quiet-otter-3f9", false)]  // not quite the generator's shape
    public async Task Resume_AfterEdgeRestart_GrantedOnlyWhenTheTokenCouldHaveTheName(string resume, bool granted)
    {
        await using var edge = await TestEdge.StartAsync(Config());

        await using var link = await RawLink.OpenAsync(edge.Url, "alice-token", $"http; id=web; resume={resume}");

        Assert.Equal(101, link.Status);
        if (granted) Assert.Equal(resume, link.GrantedName);
        else
        {
            Assert.NotEqual(resume, link.GrantedName);
            Assert.True(NameGenerator.IsGenerated(link.GrantedName!), $"a fresh random name instead, got '{link.GrantedName}'");
        }
    }

    [Fact]
    public async Task Resume_ReservedForAnotherToken_NotGranted()
    {
        await using var edge = await TestEdge.StartAsync(Config());
        await using var link = await RawLink.OpenAsync(edge.Url, "bob-token", "http; id=web; resume=blog");
        Assert.NotEqual("blog", link.GrantedName);
    }

    [Fact]
    public async Task Resume_WithinGrace_SameTokenTakesItOverOtherTokenDoesNot()
    {
        await using var edge = await TestEdge.StartAsync(Config());
        var first = await RawLink.OpenAsync(edge.Url, "alice-token", "http; id=web; name=alice-demo");
        Assert.Equal("alice-demo", first.GrantedName);
        await first.DisposeAsync(); // the agent process dies: the name is held for the grace period
        using var visitor = TunnelClient.Create();
        await Wait.UntilAsync(async () => (await visitor.GetAsync(PublicUrl(edge, "alice-demo"))).StatusCode == HttpStatusCode.ServiceUnavailable,
            because: "the name is offline and held");

        // Another token cannot take it while it is held, even with a name its pattern would allow elsewhere.
        await using (var other = await RawLink.OpenAsync(edge.Url, "bob-token", "http; id=web; resume=alice-demo"))
            Assert.NotEqual("alice-demo", other.GrantedName);

        // The same token's restarted agent (a new agent id) gets it back within the grace period.
        await using var again = await RawLink.OpenAsync(edge.Url, "alice-token", "http; id=web; resume=alice-demo");
        Assert.Equal("alice-demo", again.GrantedName);
    }

    [Fact]
    public async Task Resume_AfterGrace_FreeNameFollowsTheTokenRules()
    {
        await using var edge = await TestEdge.StartAsync(Config(grace: "200ms"));
        var first = await RawLink.OpenAsync(edge.Url, "alice-token", "http; id=web; resume=quiet-otter-3f9a");
        Assert.Equal("quiet-otter-3f9a", first.GrantedName);
        await first.DisposeAsync();
        using var visitor = TunnelClient.Create();
        await Wait.UntilAsync(async () => (await visitor.GetAsync(PublicUrl(edge, "quiet-otter-3f9a"))).StatusCode == HttpStatusCode.NotFound,
            because: "the grace period ends and the name is released");

        // Released: a random-shaped name is free for anyone; alice's pattern name is not bob's.
        await using var bob = await RawLink.OpenAsync(edge.Url, "bob-token", "http; id=web; resume=quiet-otter-3f9a");
        Assert.Equal("quiet-otter-3f9a", bob.GrantedName);
        await using var bob2 = await RawLink.OpenAsync(edge.Url, "bob-token", "http; id=api; resume=alice-demo");
        Assert.NotEqual("alice-demo", bob2.GrantedName);
    }

    private static Uri PublicUrl(TestEdge edge, string name) => new($"http://{name}.localhost:{edge.Url.Port}/");
}
