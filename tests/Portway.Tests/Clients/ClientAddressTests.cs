using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Clients;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Clients;

/// <summary>
/// The client's address (Edge/Clients/ClientAddress): the socket peer, or what a trusted proxy's
/// Forwarded / X-Forwarded-For names, rightmost untrusted hop first. Through the real edge for the
/// address rules, the rate-limit key, the 403 page and the access log; the header walk on its own.
/// </summary>
public sealed class ClientAddressTests
{
    private static string Config(Uri origin, string access, string forwarded = "", string log = "") => $"""
        {forwarded}
        {log}
        routes:
          - id: guarded
            cluster: app
            access:
        {access}
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    private static async Task<HttpResponseMessage> SendAsync(TestEdge edge, string name, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation(name, value);
        return await edge.Client.SendAsync(request);
    }

    [Fact]
    public async Task SpoofedXForwardedFor_UntrustedPeer_IpRuleStillSeesThePeer()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      allow: [127.0.0.1]\n      deny: [203.0.113.0/24]"));

        var response = await SendAsync(edge, "X-Forwarded-For", "203.0.113.9");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        response = await SendAsync(edge, "Forwarded", "for=203.0.113.9");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    public async Task XForwardedFor_TrustedPeer_IpRuleAndPageSeeTheForwardedClient()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      deny: [203.0.113.0/24]", "forwarded:\n  trusted_proxies: [127.0.0.1]"));

        var denied = await SendAsync(edge, "X-Forwarded-For", "203.0.113.9");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("203.0.113.9", await denied.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "X-Forwarded-For", "198.51.100.1")).StatusCode);
        // Without a header the trusted proxy itself is the client.
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/")).StatusCode);
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    public async Task ForwardedIPv6_TrustedPeer_IpRuleSeesIt()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      deny: [2001:db8::/32]", "forwarded:\n  trusted_proxies: [127.0.0.1]"));

        var denied = await SendAsync(edge, "Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("2001:db8:cafe::17", await denied.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "Forwarded", "for=\"[2001:db9::1]\"")).StatusCode);
    }

    [Fact]
    public async Task ChainOfProxies_RightmostUntrustedHopIsTheClient()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        // 10.0.0.0/8 are the operator's own proxies behind the first one; 198.51.100.7 is what the visitor claimed.
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      deny: [203.0.113.9]", "forwarded:\n  trusted_proxies: [127.0.0.1, 10.0.0.0/8]"));

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(edge, "X-Forwarded-For", "198.51.100.7, 203.0.113.9, 10.1.2.3")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "X-Forwarded-For", "203.0.113.9, 198.51.100.7, 10.1.2.3")).StatusCode);
    }

    [Fact]
    public async Task RateLimitClientIp_TrustedPeer_OneBucketPerForwardedClient()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      rate_limit: { requests: 1, per: 1m, key: client_ip }", "forwarded:\n  trusted_proxies: [127.0.0.1]"));

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "X-Forwarded-For", "203.0.113.1")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(edge, "X-Forwarded-For", "203.0.113.1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "X-Forwarded-For", "203.0.113.2")).StatusCode);
    }

    [Fact]
    public async Task AccessLog_ClientField_ForwardedOnlyFromATrustedPeer()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        var dir = Directory.CreateTempSubdirectory("portway-log-").FullName;
        var trusted = Path.Combine(dir, "trusted.log");
        var untrusted = Path.Combine(dir, "untrusted.log");
        foreach (var (path, forwarded) in new[] { (trusted, "forwarded:\n  trusted_proxies: [127.0.0.0/8]"), (untrusted, "") })
        {
            await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      allow: [0.0.0.0/0, ::/0]", forwarded, $"access_log:\n  target: {path}"));
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "X-Forwarded-For", "203.0.113.9")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, "Forwarded", "for=\"[2001:db8::5]\"")).StatusCode);
            // Stopping the edge flushes the access log.
        }

        var trustedLines = File.ReadAllLines(trusted);
        Assert.Contains("\"client\":\"203.0.113.9\"", trustedLines[0]);
        Assert.Contains("\"client\":\"2001:db8::5\"", trustedLines[1]);
        Assert.All(File.ReadAllLines(untrusted), line => Assert.Contains("\"client\":\"127.0.0.1\"", line));
    }

    [Fact]
    public async Task ConsistentHashClientIp_TrustedPeer_HashesTheForwardedClient()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync($"""
            forwarded:
              trusted_proxies: [127.0.0.1]
            routes:
              - id: web
                cluster: app
            clusters:
              - id: app
                load_balancing: consistent_hash
                hash_on: client_ip
                destinations: [{a.Url}, {b.Url}]
            """);

        var seen = new HashSet<string>();
        for (var i = 1; i <= 32; i++)
        {
            var client = $"203.0.113.{i}";
            var first = await (await SendAsync(edge, "X-Forwarded-For", client)).Content.ReadAsStringAsync();
            // Each forwarded client sticks to one server…
            Assert.Equal(first, await (await SendAsync(edge, "X-Forwarded-For", client)).Content.ReadAsStringAsync());
            seen.Add(first);
        }
        // …and different clients spread (hashing the proxy's own address would send all 32 to one).
        Assert.Equal(2, seen.Count);
    }

    private static readonly ForwardedConfig Trusted = new() { TrustedProxies = [IPNetwork.Parse("127.0.0.1/32"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("fd00::/8")] };

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9", "203.0.113.9")]
    [InlineData("X-Forwarded-For", "203.0.113.9:5555", "203.0.113.9")]
    [InlineData("X-Forwarded-For", "2001:db8::1", "2001:db8::1")]
    [InlineData("X-Forwarded-For", "[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("X-Forwarded-For", "::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("X-Forwarded-For", "garbage, 203.0.113.9", "203.0.113.9")]            // the visitor's junk on the left is never read
    [InlineData("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.2, fd00::3", "203.0.113.9")]
    [InlineData("X-Forwarded-For", "10.0.0.1, 10.0.0.2", "10.0.0.1")]                 // every hop trusted: the leftmost
    [InlineData("X-Forwarded-For", "203.0.113.9, unknown", null)]                      // an unusable hop reached: the peer
    [InlineData("X-Forwarded-For", "", null)]
    [InlineData("X-Forwarded-For", "1", null)]                                         // IPAddress would read 0.0.0.1
    [InlineData("Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60")]
    [InlineData("Forwarded", "For=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17")]
    [InlineData("Forwarded", "for=198.51.100.1, for=203.0.113.9;host=\"a,b\", for=10.0.0.2", "203.0.113.9")]
    [InlineData("Forwarded", "proto=https;for=203.0.113.9", "203.0.113.9")]
    [InlineData("Forwarded", "for=203.0.113.9, for=_hidden", null)]
    [InlineData("Forwarded", "for=203.0.113.9, proto=https", null)]                    // a hop that names no one
    [InlineData("Forwarded", "for=\"[2001:db8::1\"", null)]
    public void FromHeaders_TrustedPeer_WalksFromTheRight(string header, string value, string? expected)
    {
        var headers = new HeaderDictionary { [header] = value };
        Assert.Equal(expected, ClientAddress.FromHeaders(headers, Trusted)?.ToString());
    }

    [Fact]
    public void FromHeaders_ForwardedAndXForwardedFor_ForwardedWins_AndLinesJoinInOrder()
    {
        var both = new HeaderDictionary { ["Forwarded"] = "for=203.0.113.1", ["X-Forwarded-For"] = "203.0.113.2" };
        Assert.Equal("203.0.113.1", ClientAddress.FromHeaders(both, Trusted)?.ToString());
        var lines = new HeaderDictionary { ["X-Forwarded-For"] = new Microsoft.Extensions.Primitives.StringValues(["203.0.113.1", "203.0.113.2, 10.0.0.1"]) };
        Assert.Equal("203.0.113.2", ClientAddress.FromHeaders(lines, Trusted)?.ToString());
    }
}
