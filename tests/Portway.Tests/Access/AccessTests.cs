using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Access;

public sealed class AccessTests
{
    private static string Config(Uri origin, string access) => $"""
        routes:
          - id: guarded
            cluster: app
            access:
        {access}
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    [Theory]
    [InlineData("      deny: [127.0.0.0/8]", HttpStatusCode.Forbidden)]
    [InlineData("      allow: [10.0.0.0/8]", HttpStatusCode.Forbidden)]
    [InlineData("      allow: [127.0.0.1, ::1]", HttpStatusCode.OK)]
    [InlineData("      allow: [127.0.0.0/8]\n      deny: [127.0.0.1]", HttpStatusCode.Forbidden)]
    public async Task AddressRules_DecideBeforeForwarding(string rules, HttpStatusCode expected)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, rules));
        var response = await edge.Client.GetAsync("/");
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, origin.Requests);
    }

    [Fact]
    public async Task RateLimit_OverBudget_429WithRetryAfter()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      rate_limit: { requests: 3, per: 1m }"));
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/")).StatusCode);
        var limited = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(3, origin.Requests);
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.key=header:NAME")]
    public async Task RateLimit_ByHeader_KeysAreIndependent()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "      rate_limit: { requests: 1, per: 1m, key: 'header:X-Api-Key' }"));
        async Task<HttpStatusCode> Send(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("X-Api-Key", key);
            return (await edge.Client.SendAsync(request)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await Send("k1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Send("k1"));
        Assert.Equal(HttpStatusCode.OK, await Send("k2"));
    }

    [Fact]
    [CoversKey("routes[].access.basic_auth.realm", "routes[].access.basic_auth.users[].name", "routes[].access.basic_auth.users[].password_hash")]
    public async Task BasicAuth_RequiresCredentials_AndStripsThemBeforeForwarding()
    {
        string? seenAuthorization = "unset";
        await using var origin = await TestOrigin.StartAsync("a", ctx =>
        {
            seenAuthorization = ctx.Request.Headers.Authorization.ToString();
            return ctx.Response.WriteAsync("secret page");
        });
        var hash = BCrypt.Net.BCrypt.HashPassword("s3cret", 4);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, $"""
                  basic_auth:
                    realm: staff
                    users:
                      - name: alice
                        password_hash: '{hash}'
            """));

        var anonymous = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("realm=\"staff\"", anonymous.Headers.WwwAuthenticate.ToString());

        foreach (var (user, password) in new[] { ("alice", "wrong"), ("bob", "s3cret") })
        {
            using var bad = new HttpRequestMessage(HttpMethod.Get, "/");
            bad.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            Assert.Equal(HttpStatusCode.Unauthorized, (await edge.Client.SendAsync(bad)).StatusCode);
        }
        Assert.Equal(0, origin.Requests);

        using var good = new HttpRequestMessage(HttpMethod.Get, "/");
        good.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret")));
        var ok = await edge.Client.SendAsync(good);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("secret page", await ok.Content.ReadAsStringAsync());
        Assert.Equal("", seenAuthorization);
    }
}
