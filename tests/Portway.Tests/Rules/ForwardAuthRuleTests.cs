using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>forward_auth through the real edge, against a real auth service on loopback.</summary>
public sealed class ForwardAuthRuleTests
{
    /// <summary>
    /// An auth service: /private without the cookie session=ok redirects to a login page, /denied
    /// is refused with a challenge and a body, /slow never answers, anything else is let through as
    /// alice. Keeps the headers of each subrequest it got.
    /// </summary>
    private static Task<TestOrigin> AuthServiceAsync(ConcurrentQueue<IHeaderDictionary> seen, int port = 0) =>
        TestOrigin.StartAsync("auth", port: port, handler: async ctx =>
        {
            seen.Enqueue(new HeaderDictionary(ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value)));
            var uri = ctx.Request.Headers["X-Forwarded-Uri"].ToString();
            if (uri.StartsWith("/slow", StringComparison.Ordinal))
            {
                await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
            }
            else if (uri.StartsWith("/private", StringComparison.Ordinal) && ctx.Request.Cookies["session"] != "ok")
            {
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers.Location = "https://login.test/?rd=" + Uri.EscapeDataString(uri);
                ctx.Response.Headers.SetCookie = "return_to=private; Path=/; HttpOnly";
            }
            else if (uri.StartsWith("/denied", StringComparison.Ordinal))
            {
                ctx.Response.StatusCode = 401;
                ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"staff\"";
                ctx.Response.ContentType = "text/plain";
                await ctx.Response.WriteAsync("staff only, sign in first");
            }
            else
            {
                ctx.Response.Headers["X-User"] = "alice";
                ctx.Response.Headers["X-Email"] = "alice@example.com";
                ctx.Response.Headers["X-Internal"] = "not copied";
            }
        });

    /// <summary>A server that answers with what it got: the identity headers and the body.</summary>
    private static Task<TestOrigin> AppAsync() =>
        TestOrigin.StartAsync("app", async ctx =>
        {
            var body = await new StreamReader(ctx.Request.Body, Encoding.UTF8).ReadToEndAsync();
            await ctx.Response.WriteAsync($"{ctx.Request.Method} {ctx.Request.Path}{ctx.Request.QueryString} user={ctx.Request.Headers["X-User"]} "
                + $"email={ctx.Request.Headers["X-Email"]} internal={ctx.Request.Headers["X-Internal"]} body={body}");
        });

    private static string Route(Uri app, string rule) => $$"""
        routes:
          - id: web
            cluster: app
            rules:
              - forward_auth: {{rule}}
        clusters:
          - id: app
            destinations: [{{app}}]
        """;

    [Fact]
    [CoversKey("rules[].forward_auth.url", "rules[].forward_auth.copy_headers")]
    public async Task Allowed_ListedHeadersCopied_ForgedRemoved_PostBodyReachesTheServer()
    {
        var seen = new ConcurrentQueue<IHeaderDictionary>();
        await using var auth = await AuthServiceAsync(seen);
        await using var app = await AppAsync();
        await using var edge = await TestEdge.StartAsync(Route(app.Url, $"{{ url: '{auth.Url}verify', copy_headers: [X-User, X-Email] }}"));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/items?sort=new") { Content = new StringContent("{\"name\":\"pen\"}") };
        request.Headers.Add("X-User", "root");
        request.Headers.Add("X-Forwarded-Uri", "/forged");
        request.Headers.Add("Cookie", "session=ok");
        using var response = await edge.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("POST /api/items?sort=new user=alice email=alice@example.com internal= body={\"name\":\"pen\"}", await response.Content.ReadAsStringAsync());

        // The auth service saw the original request, not the client's claims about it.
        var asked = Assert.Single(seen);
        Assert.Equal("POST", asked["X-Forwarded-Method"].ToString());
        Assert.Equal("/api/items?sort=new", asked["X-Forwarded-Uri"].ToString());
        Assert.Equal(edge.Url.Authority, asked["X-Forwarded-Host"].ToString());
        Assert.Equal("http", asked["X-Forwarded-Proto"].ToString());
        Assert.Equal("127.0.0.1", asked["X-Forwarded-For"].ToString());
        Assert.Equal("session=ok", asked["Cookie"].ToString());
    }

    [Fact]
    public async Task Refused_AuthAnswerRelayed_401WithBody_302WithLocationAndCookie()
    {
        var seen = new ConcurrentQueue<IHeaderDictionary>();
        await using var auth = await AuthServiceAsync(seen);
        await using var app = await AppAsync();
        await using var edge = await TestEdge.StartAsync(Route(app.Url, $"{{ url: '{auth.Url}verify' }}"));

        using var denied = await edge.Client.GetAsync("/denied");
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal("Bearer realm=\"staff\"", denied.Headers.WwwAuthenticate.ToString());
        Assert.Equal("staff only, sign in first", await denied.Content.ReadAsStringAsync());

        using var redirected = await edge.Client.GetAsync("/private/report?y=2026");
        Assert.Equal(HttpStatusCode.Found, redirected.StatusCode);
        Assert.Equal("https://login.test/?rd=%2Fprivate%2Freport%3Fy%3D2026", redirected.Headers.Location?.ToString());
        Assert.Equal("return_to=private; Path=/; HttpOnly", redirected.Headers.GetValues("Set-Cookie").Single());
        Assert.Equal(0, app.Requests);
    }

    [Fact]
    [CoversKey("rules[].forward_auth.request_headers")]
    public async Task RequestHeaders_OnlyTheListedOnesReachTheAuthService()
    {
        var seen = new ConcurrentQueue<IHeaderDictionary>();
        await using var auth = await AuthServiceAsync(seen);
        await using var app = await AppAsync();
        await using var edge = await TestEdge.StartAsync($$"""
            routes:
              - id: listed
                match: { path_prefix: /listed }
                cluster: app
                rules: [{ forward_auth: { url: '{{auth.Url}}verify', request_headers: [Cookie] } }]
              - id: all
                match: { path_prefix: /all }
                cluster: app
                rules: [{ forward_auth: { url: '{{auth.Url}}verify' } }]
            clusters:
              - id: app
                destinations: [{{app.Url}}]
            """);
        foreach (var path in (string[])["/listed", "/all"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Cookie", "session=ok");
            request.Headers.Add("X-Team", "blue");
            Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(request)).StatusCode);
        }
        var asked = seen.ToArray();
        Assert.Equal("session=ok", asked[0]["Cookie"].ToString());
        Assert.False(asked[0].ContainsKey("X-Team"));
        Assert.Equal("blue", asked[1]["X-Team"].ToString());
        Assert.Equal("/listed", asked[0]["X-Forwarded-Uri"].ToString());
    }

    [Fact]
    public async Task AuthServiceDown_Clear503_OneLogLinePerChange()
    {
        var logs = new LogCapture();
        await using var app = await AppAsync();
        var port = Probe.FreePort();
        var url = $"http://127.0.0.1:{port}/verify";
        await using var edge = await TestEdge.StartAsync(Route(app.Url, $"{{ url: '{url}' }}"), services => services.AddSingleton<ILoggerProvider>(logs));
        for (var i = 0; i < 3; i++)
        {
            using var response = await edge.Client.GetAsync("/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("auth service) could not be reached", await response.Content.ReadAsStringAsync());
        }
        Assert.Single(logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains(url, StringComparison.Ordinal));
        Assert.Equal(0, app.Requests);

        // The service comes up: requests pass, and one line says so.
        await using var auth = await AuthServiceAsync(new ConcurrentQueue<IHeaderDictionary>(), port);
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/")).StatusCode);
        Assert.Single(logs.Lines, l => l.Level == LogLevel.Information && l.Message.Contains($"{url} of route web's forward_auth rule answers again", StringComparison.Ordinal));
    }

    [Fact]
    [CoversKey("rules[].forward_auth.timeout")]
    public async Task AuthServiceSilent_504AfterTheTimeout()
    {
        var seen = new ConcurrentQueue<IHeaderDictionary>();
        await using var auth = await AuthServiceAsync(seen);
        await using var app = await AppAsync();
        await using var edge = await TestEdge.StartAsync(Route(app.Url, $"{{ url: '{auth.Url}verify', timeout: 300ms }}"));
        using var response = await edge.Client.GetAsync("/slow");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer within 300ms", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, app.Requests);
    }

    [Theory]
    [InlineData("{ timeout: 2s }", "t.yaml:8:23: routes[0].rules[0].forward_auth.url: is required")]
    [InlineData("{ url: 'ftp://auth/verify' }", "t.yaml:8:30: routes[0].rules[0].forward_auth.url: 'ftp://auth/verify' is not an http:// or https:// URL")]
    [InlineData("{ url: 'http://127.0.0.1:9/', copy_headers: ['X User'] }", "t.yaml:8:68: routes[0].rules[0].forward_auth.copy_headers: 'X User' is not a header name")]
    public void Load_BadForwardAuthRule_LocatedError(string rule, string expected) => RuleConfigErrors.Assert("forward_auth: " + rule, expected);
}
