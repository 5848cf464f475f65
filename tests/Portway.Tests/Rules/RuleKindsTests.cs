using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>Each rule kind of docs/policy.md through the real edge, written in a route's rules: list.</summary>
public sealed class RuleKindsTests
{
    private static string OneRoute(Uri origin, string rules, string listeners = "") => $"""
        {listeners}
        routes:
          - id: web
            cluster: app
            rules:
        {rules}
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    [Fact]
    public async Task Ip_IPv6Client_AllowedNetworkPassesOthersGet403()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - url: http://[::1]:0
            routes:
              - id: inside
                match: {"{"} path_prefix: /inside {"}"}
                cluster: app
                rules:
                  - ip: {"{"} allow: ['::1/128'] {"}"}
              - id: outside
                match: {"{"} path_prefix: /outside {"}"}
                cluster: app
                rules:
                  - ip: {"{"} allow: ['::/0'], deny: ['::1'] {"}"}
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        Assert.Equal("[::1]", edge.Url.Host);
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/inside")).StatusCode);
        using var denied = await edge.Client.GetAsync("/outside");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("::1", await denied.Content.ReadAsStringAsync());
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task RateLimitAndBasicAuth_InARulesList_BehaveAsInAccess()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword("pw", 4);
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(OneRoute(origin.Url, $$"""
                  - basic_auth: { realm: team, users: [{ name: bob, password_hash: '{{hash}}' }] }
                  - rate_limit: { requests: 1, per: 1h }
            """));
        using var anonymous = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("realm=\"team\"", anonymous.Headers.WwwAuthenticate.ToString());

        async Task<HttpStatusCode> AsBob()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("bob:pw"u8.ToArray()));
            using var response = await edge.Client.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await AsBob());
        Assert.Equal(HttpStatusCode.TooManyRequests, await AsBob());
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    [CoversKey("rules[].headers.request.set", "rules[].headers.request.add", "rules[].headers.request.remove",
        "rules[].headers.response.set", "rules[].headers.response.add", "rules[].headers.response.remove")]
    public async Task Headers_RequestAndResponse_SetAddRemove()
    {
        await using var origin = await TestOrigin.StartAsync("a", ctx =>
        {
            ctx.Response.Headers["X-Powered-By"] = "framework 1.0";
            ctx.Response.Headers["X-Version"] = "origin";
            ctx.Response.Headers["X-Echo-Set"] = ctx.Request.Headers["X-Set"].ToString();
            ctx.Response.Headers["X-Echo-Add"] = ctx.Request.Headers["X-Add"].ToString();
            ctx.Response.Headers["X-Echo-Secret"] = ctx.Request.Headers["X-Secret"].ToString();
            return ctx.Response.WriteAsync("ok");
        });
        await using var edge = await TestEdge.StartAsync(OneRoute(origin.Url, """
                  - headers:
                      request:
                        set: { X-Set: edge }
                        add: { X-Add: edge }
                        remove: [X-Secret]
                      response:
                        set: { X-Version: edge }
                        add: { Link: '</style.css>; rel=preload' }
                        remove: [X-Powered-By]
            """));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Set", "client");
        request.Headers.Add("X-Add", "client");
        request.Headers.Add("X-Secret", "s3cret");
        using var response = await edge.Client.SendAsync(request);

        Assert.Equal("edge", response.Headers.GetValues("X-Echo-Set").Single());
        Assert.Equal(["client", "edge"], response.Headers.GetValues("X-Echo-Add").Single().Split(',', StringSplitOptions.TrimEntries));
        Assert.Equal("", response.Headers.GetValues("X-Echo-Secret").Single());
        Assert.Equal("edge", response.Headers.GetValues("X-Version").Single());
        Assert.Equal("</style.css>; rel=preload", response.Headers.GetValues("Link").Single());
        Assert.False(response.Headers.Contains("X-Powered-By"));
    }

    [Fact]
    [CoversKey("rules[].respond.status", "rules[].respond.body", "rules[].respond.content_type")]
    public async Task Respond_FixedAnswer_NothingForwarded()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(OneRoute(origin.Url, """
                  - respond: { status: 503, body: '<p>Back soon</p>', content_type: text/html }
            """));
        using var response = await edge.Client.GetAsync("/anything");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("<p>Back soon</p>", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/html", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(0, origin.Requests);
    }

    [Fact]
    [CoversKey("rules[].redirect.to", "rules[].redirect.status", "rules[].redirect.match",
        "routes[].rules[].redirect.to", "routes[].rules[].redirect.status", "routes[].rules[].redirect.match")]
    public async Task Redirect_MatchingPath_TargetFromCapturesAndQuery_OthersPass()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(OneRoute(origin.Url, """
                  - redirect: { match: '^/old/(?<rest>.*)$', to: 'https://new.example.com/v2/{rest}{query}', status: 308 }
                  - redirect: { match: '^/moved$', to: '{scheme}://{host}/elsewhere' }
            """));
        using var moved = await edge.Client.GetAsync("/old/a/b?x=1");
        Assert.Equal(HttpStatusCode.PermanentRedirect, moved.StatusCode);
        Assert.Equal("https://new.example.com/v2/a/b?x=1", moved.Headers.Location?.ToString());

        // Without status: 302; {scheme} and {host} are the request's.
        using var found = await edge.Client.GetAsync("/moved");
        Assert.Equal(HttpStatusCode.Found, found.StatusCode);
        Assert.Equal($"http://{edge.Url.Authority}/elsewhere", found.Headers.Location?.ToString());

        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/new/a")).StatusCode);
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    [CoversKey("rules[].rewrite.match", "rules[].rewrite.path", "rules[].rewrite.query")]
    public async Task Rewrite_PathAndQueryFromCaptures_BeforeForwarding()
    {
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync(OneRoute(origin.Url, """
                  - rewrite: { match: '^/api/v1/(.*)$', path: '/v2/{1}', query: '{args}&via=rewrite' }
            """));
        var rewritten = await Probe.SeenAsync(await edge.Client.GetAsync("/api/v1/users/7?sort=name"));
        Assert.Equal("/v2/users/7", rewritten.Path);
        Assert.Equal("?sort=name&via=rewrite", rewritten.Query);

        // A path the regex does not match is forwarded as it came.
        var untouched = await Probe.SeenAsync(await edge.Client.GetAsync("/static/app.js?v=3"));
        Assert.Equal("/static/app.js", untouched.Path);
        Assert.Equal("?v=3", untouched.Query);
    }
}
