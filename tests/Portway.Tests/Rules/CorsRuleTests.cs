using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary><c>cors</c> through the real edge, with the requests a browser sends.</summary>
public sealed class CorsRuleTests
{
    private static string Config(Uri origin, string cors) => $$"""
        routes:
          - id: api
            cluster: app
            rules:
              - cors: {{cors}}
        clusters:
          - id: app
            destinations: [{{origin}}]
        """;

    private const string Full = "{ origins: [https://app.example.com, 'https://*.example.com'], methods: [GET, POST, PUT], headers: [Content-Type, X-Token], expose_headers: [X-Request-Id], credentials: true, max_age: 10m }";

    private static HttpRequestMessage Preflight(string origin, string method, string? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/items");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null) request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static HttpRequestMessage Actual(string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/items");
        if (origin is not null) request.Headers.Add("Origin", origin);
        return request;
    }

    private static string? One(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    [Fact]
    [CoversKey("rules[].cors.origins", "rules[].cors.methods", "rules[].cors.headers", "rules[].cors.credentials", "rules[].cors.max_age")]
    public async Task Preflight_AllowedOrigin_AnsweredByTheEdgeWith204AndAllowHeaders()
    {
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, Full));

        using var response = await edge.Client.SendAsync(Preflight("https://app.example.com", "PUT", "content-type, x-token"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("https://app.example.com", One(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", One(response, "Access-Control-Allow-Credentials"));
        Assert.Contains("PUT", One(response, "Access-Control-Allow-Methods"));
        Assert.Contains("X-Token", One(response, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("600", One(response, "Access-Control-Max-Age"));
        Assert.Equal(["Origin"], response.Headers.Vary);
        Assert.Equal(0, origin.Requests);
    }

    [Fact]
    public async Task Preflight_OtherOrigin_403WithoutCorsHeaders_NotForwarded()
    {
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, Full));

        foreach (var other in new[] { "https://evil.com", "https://example.com.evil.com", "http://app.example.com" })
        {
            using var response = await edge.Client.SendAsync(Preflight(other, "POST"));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Null(One(response, "Access-Control-Allow-Origin"));
            Assert.Contains(other, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, origin.Requests);
    }

    [Fact]
    [CoversKey("rules[].cors.expose_headers")]
    public async Task ActualRequest_AllowedOrigin_EchoedNotStar_ServersOwnCorsHeadersReplaced()
    {
        await using var origin = await TestOrigin.StartAsync("app", ctx =>
        {
            ctx.Response.Headers["Access-Control-Allow-Origin"] = "*";
            ctx.Response.Headers["X-Request-Id"] = "r1";
            return ctx.Response.WriteAsync("items");
        });
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, Full));

        using var response = await edge.Client.SendAsync(Actual("https://shop.eu.example.com"));
        Assert.Equal("items", await response.Content.ReadAsStringAsync());
        Assert.Equal("https://shop.eu.example.com", One(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", One(response, "Access-Control-Allow-Credentials"));
        Assert.Equal("X-Request-Id", One(response, "Access-Control-Expose-Headers"));
        Assert.Equal(["Origin"], response.Headers.Vary);

        using var refused = await edge.Client.SendAsync(Actual("https://evil.com"));
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Null(One(refused, "Access-Control-Allow-Origin"));
        Assert.Null(One(refused, "Access-Control-Allow-Credentials"));
        Assert.Equal(["Origin"], refused.Headers.Vary);

        // Without Origin (curl, same-origin navigation) no CORS headers, but the answer still varies by Origin.
        using var plain = await edge.Client.SendAsync(Actual(null));
        Assert.Null(One(plain, "Access-Control-Allow-Origin"));
        Assert.Equal(["Origin"], plain.Headers.Vary);
        Assert.Equal(3, origin.Requests);
    }

    [Fact]
    public async Task AnyOrigin_WithoutCredentials_StarAndNoVary()
    {
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "{ origins: ['*'] }"));

        using var response = await edge.Client.SendAsync(Actual("https://anyone.test"));
        Assert.Equal("*", One(response, "Access-Control-Allow-Origin"));
        Assert.Null(One(response, "Access-Control-Allow-Credentials"));
        Assert.Empty(response.Headers.Vary);

        using var preflight = await edge.Client.SendAsync(Preflight("https://anyone.test", "DELETE", "x-anything"));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal("DELETE", One(preflight, "Access-Control-Allow-Methods"));
        Assert.Equal("x-anything", One(preflight, "Access-Control-Allow-Headers"));
    }

    [Theory]
    [InlineData("{ origins: ['*'], credentials: true }", "t.yaml:8:46: routes[0].rules[0].cors.credentials: cannot be true with origins: ['*']")]
    [InlineData("{ origins: [https://app.example.com/path] }", "t.yaml:8:27: routes[0].rules[0].cors.origins: 'https://app.example.com/path' is not an origin")]
    [InlineData("{ methods: [GET] }", "t.yaml:8:15: routes[0].rules[0].cors.origins: is required")]
    public void Load_BadCors_LocatedError(string rule, string expected) => RuleConfigErrors.Assert("cors: " + rule, expected);
}
