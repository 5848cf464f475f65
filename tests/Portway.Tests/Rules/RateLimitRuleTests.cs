using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portway.Configuration;
using Portway.Edge.Tunnels;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>
/// rate_limit's algorithms at their exact boundaries, its keys (and requests without one), and the
/// answers' fields, through the real edge. Visitors come from several loopback addresses (127.0.0.2, .3).
/// Windows are an hour unless the test is about a window ending, so no result depends on timing.
/// </summary>
public sealed class RateLimitRuleTests
{
    private static string Access(Uri origin, string rateLimit) => $$"""
        routes:
          - id: limited
            cluster: app
            access:
              rate_limit: { {{rateLimit}} }
        clusters:
          - id: app
            destinations: [{{origin}}]
        """;

    private static async Task<HttpStatusCode> SendAsync(TestEdge edge, string from = "127.0.0.1", string path = "/", string? header = null, string? user = null)
    {
        using var client = Probe.From(from, edge.Url);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (header is not null) request.Headers.Add("X-Api-Key", header);
        if (user is not null) request.Headers.Add(TestUser.Header, user);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<List<HttpStatusCode>> SendManyAsync(TestEdge edge, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++) statuses.Add(await SendAsync(edge));
        return statuses;
    }

    private static HttpStatusCode[] Passes(int n, int refused = 1) =>
        [.. Enumerable.Repeat(HttpStatusCode.OK, n), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, refused)];

    [Theory]
    [InlineData("token_bucket")]
    [InlineData("fixed_window")]
    [InlineData("sliding_window")]
    [CoversKey("routes[].access.rate_limit.algorithm=token_bucket", "routes[].access.rate_limit.algorithm=fixed_window",
        "routes[].access.rate_limit.algorithm=sliding_window")]
    public async Task Algorithm_WindowedAtTheBoundary_NPassThenTheNextIs429(string algorithm)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, $"algorithm: {algorithm}, requests: 5, per: 1h"));

        Assert.Equal(Passes(5, refused: 2), await SendManyAsync(edge, 7));
        Assert.Equal(5, origin.Requests);
    }

    [Theory]
    [InlineData("fixed_window")]
    [InlineData("sliding_window")]
    public async Task Algorithm_WindowEnds_RequestsPassAgain(string algorithm)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, $"algorithm: {algorithm}, requests: 2, per: 1s"));

        Assert.Equal(Passes(2), await SendManyAsync(edge, 3));
        // The window (fixed) or its oldest segments (sliding) end within a second; waited on, not slept.
        await Wait.UntilAsync(async () => await SendAsync(edge) == HttpStatusCode.OK, because: "the window's requests are forgotten once it ends");
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.segments")]
    public async Task SlidingWindow_Segments_OutOfRangeIsAConfigErrorAndInRangeCounts()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Access(new Uri("http://127.0.0.1:1"), "algorithm: sliding_window, requests: 2, per: 1h, segments: 1"), "t.yaml"));
        Assert.Contains("routes[0].access.rate_limit.segments: 1 is out of range; allowed: 2 to 1000", Assert.Single(error.Errors).ToString());

        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, "algorithm: sliding_window, requests: 2, per: 1h, segments: 60"));
        Assert.Equal(Passes(2), await SendManyAsync(edge, 3));
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.algorithm=concurrency")]
    public async Task Concurrency_NInFlightPass_NextIs429_OneFinishing_LetsTheNextThrough()
    {
        var arrived = 0;
        using var release = new SemaphoreSlim(0);
        await using var origin = await TestOrigin.StartAsync("a", async ctx =>
        {
            if (ctx.Request.Path == "/hold")
            {
                Interlocked.Increment(ref arrived);
                await release.WaitAsync();
            }
            await ctx.Response.WriteAsync("done");
        });
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, "algorithm: concurrency, requests: 3"));

        var held = Enumerable.Range(0, 3).Select(_ => SendAsync(edge, path: "/hold")).ToList();
        await Wait.UntilAsync(() => Volatile.Read(ref arrived) == 3, because: "three requests are at the origin");

        using var client = Probe.From("127.0.0.1", edge.Url);
        using var refused = await client.GetAsync("/quick");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("\"concurrency\";q=3", refused.Headers.GetValues("RateLimit-Policy").Single());

        release.Release();
        await Wait.UntilAsync(() => held.Any(t => t.IsCompleted), because: "one held request is answered");
        await Wait.UntilAsync(async () => await SendAsync(edge, path: "/quick") == HttpStatusCode.OK, because: "a finished request frees its permit");
        release.Release(2);
        Assert.All(await Task.WhenAll(held), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(4, origin.Requests);
    }

    [Theory]
    [InlineData("algorithm: fixed_window, requests: 2, burst: 5", "routes[0].access.rate_limit.burst: does not apply to algorithm fixed_window; only token_bucket has a burst")]
    [InlineData("algorithm: concurrency, requests: 2, per: 1s", "routes[0].access.rate_limit.per: does not apply to algorithm concurrency")]
    [InlineData("requests: 2, segments: 4", "routes[0].access.rate_limit.segments: does not apply to algorithm token_bucket")]
    [InlineData("algorithm: leaky_bucket, requests: 2", "routes[0].access.rate_limit.algorithm: 'leaky_bucket' is not allowed (did you mean 'token_bucket'?); allowed: token_bucket, fixed_window, sliding_window, concurrency")]
    [InlineData("requests: 2, key: [client_ip, 'headr:X']", "routes[0].access.rate_limit.key: 'headr:X' is not allowed; allowed: client_ip, route, header:NAME, claim:NAME, tunnel_token, or a list of these")]
    [InlineData("requests: 2, key: []", "routes[0].access.rate_limit.key: names no key; give one of client_ip, route, header:NAME, claim:NAME, tunnel_token, or a list of these")]
    [InlineData("requests: 2, missing_key: lump", "routes[0].access.rate_limit.missing_key: 'lump' is not allowed; allowed: client_ip, allow, deny")]
    public void Load_KeyThatDoesNotFitTheAlgorithmOrIsUnknown_LocatedError(string rateLimit, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Access(new Uri("http://127.0.0.1:1"), rateLimit), "t.yaml"));
        Assert.Contains(expected, Assert.Single(error.Errors).ToString());
        Assert.StartsWith("t.yaml:5:", error.Errors[0].ToString());
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.missing_key=client_ip")]
    public async Task HeaderKey_RequestsWithoutTheHeader_CountedPerClientNotLumped()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, "requests: 1, per: 1h, key: 'header:X-Api-Key'"));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2"));
        // Before: every request without the header shared one bucket, so this was a 429.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.3"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.2"));
        // A header spelling the keyless client's address is another key, not that client's limiter.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.4", header: "127.0.0.2"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2", header: "k1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.3", header: "k1"));
    }

    [Theory]
    [InlineData("allow", HttpStatusCode.OK)]
    [InlineData("deny", HttpStatusCode.Forbidden)]
    [CoversKey("routes[].access.rate_limit.missing_key=allow", "routes[].access.rate_limit.missing_key=deny")]
    public async Task MissingKey_AllowOrDeny_KeylessRequestsPassUncountedOrAreRefused(string mode, HttpStatusCode keyless)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, $"requests: 1, per: 1h, key: 'header:X-Api-Key', missing_key: {mode}"));

        for (var i = 0; i < 3; i++) Assert.Equal(keyless, await SendAsync(edge));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, header: "k1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, header: "k1"));
    }

    [Fact]
    public async Task Key_ListOfParts_OneLimiterPerDistinctTuple()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, "requests: 1, per: 1h, key: [client_ip, 'header:X-Api-Key']"));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2", header: "k1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.2", header: "k1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.3", header: "k1"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2", header: "k2"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.3", header: "k1"));
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.key=claim:NAME")]
    public async Task ClaimKey_PerUser_AndAnonymousRequestsCountedPerClient()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        // TestUser stands in for the jwt rule (JwtRuleTests has the real one): something before the rules has set HttpContext.User.
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, "requests: 1, per: 1h, key: 'claim:sub'"), TestUser.Register);

        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2", user: "alice"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.3", user: "alice"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2", user: "bob"));
        // No user: not one limiter for all anonymous visitors, one per address.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.3"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.2"));
    }

    [Fact]
    [CoversKey("routes[].access.rate_limit.key=tunnel_token")]
    public async Task TunnelTokenKey_TunnelsOfOneTokenShareALimiter_OtherTokensDoNot()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync($$"""
            rules:
              - rate_limit: { requests: 2, per: 1h, key: tunnel_token }
            tunnels:
              tokens:
                - name: alice
                  sha256: {{TokenAuthenticator.Hash("alice-token")}}
                  allowed_patterns: ["*"]
                - name: bob
                  sha256: {{TokenAuthenticator.Hash("bob-token")}}
                  allowed_patterns: ["*"]
            """);
        await using var alice1 = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-one"), token: "alice-token");
        await using var alice2 = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-two"), token: "alice-token");
        await using var bob = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "bob-app"), token: "bob-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        async Task<HttpStatusCode> Get(Uri url)
        {
            using var response = await client.GetAsync(url);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await Get(alice1.Url));
        Assert.Equal(HttpStatusCode.OK, await Get(alice2.Url));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Get(alice1.Url));
        Assert.Equal(HttpStatusCode.OK, await Get(bob.Url));
        Assert.Equal(3, local.Requests);
    }

    [Fact]
    public async Task RouteKey_InAGlobalRule_OneLimiterPerRoute()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($$"""
            rules:
              - rate_limit: { requests: 1, per: 1h, key: route }
            routes:
              - id: one
                match: { path_prefix: /one }
                cluster: app
              - id: two
                match: { path_prefix: /two }
                cluster: app
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
            """);

        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.2", "/one"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(edge, "127.0.0.3", "/one"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(edge, "127.0.0.3", "/two"));
    }

    [Theory]
    [InlineData("algorithm: token_bucket, requests: 2, per: 1h", "\"token_bucket\";q=2;w=3600", 3600)]
    [InlineData("algorithm: fixed_window, requests: 2, per: 1h", "\"fixed_window\";q=2;w=3600", 3600)]
    [InlineData("algorithm: sliding_window, requests: 2, per: 1h", "\"sliding_window\";q=2;w=3600", 3600)]
    public async Task Refused_CarriesRetryAfterAndTheRateLimitFields(string rateLimit, string policy, int retryAfter)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, rateLimit));
        Assert.Equal(Passes(2, 0), await SendManyAsync(edge, 2));

        using var client = Probe.From("127.0.0.1", edge.Url);
        using var refused = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        // The limiter's estimate: the token bucket's next refill, a window's length; at most the hour either way.
        var seconds = (int)refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        Assert.InRange(seconds, retryAfter - 60, retryAfter);
        Assert.Equal(policy, refused.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal($"\"{rateLimit.Split(',')[0][11..]}\";r=0;t={seconds}", refused.Headers.GetValues("RateLimit").Single());
        Assert.False(refused.Headers.Contains("RateLimit-Remaining"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [CoversKey("routes[].access.rate_limit.headers")]
    public async Task Headers_OnPassingResponses_SayWhatIsLeftOnlyWhenAskedFor(bool headers)
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Access(origin.Url, $"requests: 3, per: 1m, headers: {(headers ? "true" : "false")}"));
        using var client = Probe.From("127.0.0.1", edge.Url);

        using var first = await client.GetAsync("/");
        using var second = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        if (!headers)
        {
            Assert.False(second.Headers.Contains("RateLimit"));
            Assert.False(second.Headers.Contains("RateLimit-Policy"));
            return;
        }
        Assert.Equal("\"token_bucket\";q=3;w=60", second.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"token_bucket\";r=2;t=60", first.Headers.GetValues("RateLimit").Single());
        Assert.Equal("\"token_bucket\";r=1;t=60", second.Headers.GetValues("RateLimit").Single());
    }
}

/// <summary>
/// Stands in for the jwt rule in tests: an authenticated user named by a request header, set
/// before the edge's own middleware runs (an <see cref="IStartupFilter"/> of the test host).
/// </summary>
internal sealed class TestUser : IStartupFilter
{
    public const string Header = "X-Test-User";

    public static void Register(IServiceCollection services) => services.AddSingleton<IStartupFilter, TestUser>();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers[Header].ToString() is { Length: > 0 } name)
                context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", name)], "test"));
            return nextMiddleware(context);
        });
        next(app);
    };
}
