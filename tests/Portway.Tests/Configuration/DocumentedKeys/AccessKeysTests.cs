using System.Net;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// routes[].access keys, with visitors on several loopback addresses (127.0.0.2, .3, …) so address
/// rules and per-address buckets can be told apart. Basic auth and header-keyed buckets are in AccessTests.
/// </summary>
public sealed class AccessKeysTests
{
    private static string Config(Uri origin, string access) => $"""
        routes:
          - id: guarded
            match: {"{"} path_prefix: /guarded {"}"}
            cluster: app
            access:
        {access}
          - id: open
            cluster: app
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    private static async Task<HttpStatusCode> GetFromAsync(TestEdge edge, string address, string path = "/guarded")
    {
        using var client = Probe.From(address, edge.Url);
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }

    [Fact]
    [CoversKey("routes[].access.allow", "routes[].access.deny")]
    public async Task AllowAndDeny_PerVisitorAddress_DenyWinsInsideAllow()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      allow: [127.0.0.2, 127.0.1.0/24]\n      deny: [127.0.1.66]"));

        Assert.Equal(HttpStatusCode.OK, await GetFromAsync(edge, "127.0.0.2"));
        Assert.Equal(HttpStatusCode.OK, await GetFromAsync(edge, "127.0.1.9"));
        Assert.Equal(HttpStatusCode.Forbidden, await GetFromAsync(edge, "127.0.0.3"));
        Assert.Equal(HttpStatusCode.Forbidden, await GetFromAsync(edge, "127.0.1.66"));
        // Other routes are not guarded.
        Assert.Equal(HttpStatusCode.OK, await GetFromAsync(edge, "127.0.1.66", "/open"));
        Assert.Equal(3, origin.Requests);
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.requests", "routes[].access.rate_limit.per")]
    public async Task RateLimit_OnePerHour_SecondRefusedWithRetryAfterInMinutes()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      rate_limit: { requests: 2, per: 1h }"));

        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/guarded")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/guarded")).StatusCode);
        using var limited = await edge.Client.GetAsync("/guarded");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // A token every 30 minutes; the default period (1 s) would say 1.
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(10), $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.burst")]
    public async Task RateLimit_Burst_QuietClientSpendsRequestsPlusBurst()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      rate_limit: { requests: 1, per: 1h, burst: 3 }"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++) statuses.Add((await edge.Client.GetAsync("/guarded")).StatusCode);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Theory]
    [InlineData("client_ip", HttpStatusCode.OK)]
    [InlineData("route", HttpStatusCode.TooManyRequests)]
    [CoversKey("routes[].access.rate_limit.key=client_ip", "routes[].access.rate_limit.key=route")]
    public async Task RateLimit_Key_DecidesWhetherVisitorsShareABucket(string key, HttpStatusCode secondVisitor)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, $"      rate_limit: {{ requests: 1, per: 1h, key: {key} }}"));

        Assert.Equal(HttpStatusCode.OK, await GetFromAsync(edge, "127.0.0.2"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetFromAsync(edge, "127.0.0.2"));
        Assert.Equal(secondVisitor, await GetFromAsync(edge, "127.0.0.3"));
    }
}
