using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>routes[].match.*, order, id and cluster: each condition lets one request in and keeps a near miss out.</summary>
public sealed class RouteMatchKeysTests
{
    /// <summary>Route 'probe' (the condition under test) sends to /hit on the echo origin; route 'other' takes the rest to /other.</summary>
    private static string Config(Uri origin, string match, string probeExtra = "", string otherExtra = "") => $"""
        routes:
          - id: probe
            match: {match}
            cluster: hit
        {probeExtra}
          - id: other
            cluster: other
        {otherExtra}
        clusters:
          - id: hit
            destinations: ["{origin}hit/"]
          - id: other
            destinations: ["{origin}other/"]
        """;

    [Theory]
    [InlineData("{ hosts: [api.test] }", "GET /x Host=api.test", "GET /x Host=www.test")]
    [InlineData("{ hosts: [\"*.api.test\"] }", "GET /x Host=eu.api.test", "GET /x Host=api.test")]
    [InlineData("{ hosts: [\"api.test:8080\"] }", "GET /x Host=api.test:8080", "GET /x Host=api.test:8081")]
    [InlineData("{ path: \"/users/{id}\" }", "GET /users/7", "GET /users/7/posts")]
    [InlineData("{ path_prefix: /v1 }", "GET /v1/items", "GET /v1x/items")]
    [InlineData("{ path_prefix: /v1 }", "GET /v1", "GET /")]
    [InlineData("{ methods: [POST, PUT] }", "PUT /x", "GET /x")]
    [InlineData("{ headers: [{ name: X-Canary, values: [\"true\"] }] }", "GET /x X-Canary=true", "GET /x X-Canary=truely")]
    [InlineData("{ headers: [{ name: X-Canary, values: [\"true\"], mode: exact }] }", "GET /x X-Canary=TRUE", "GET /x X-Canary=false")]
    [InlineData("{ headers: [{ name: X-Tier, values: [gold], mode: prefix }] }", "GET /x X-Tier=golden", "GET /x X-Tier=rosegold")]
    [InlineData("{ headers: [{ name: X-Tier, values: [old], mode: contains }] }", "GET /x X-Tier=golden", "GET /x X-Tier=silver")]
    [InlineData("{ headers: [{ name: X-Debug, mode: exists }] }", "GET /x X-Debug=1", "GET /x")]
    [InlineData("{ headers: [{ name: X-Debug }] }", "GET /x X-Debug=on", "GET /x")]
    [InlineData("{ headers: [{ name: X-Bot, mode: not_exists }] }", "GET /x", "GET /x X-Bot=1")]
    [InlineData("{ query: [{ name: version, values: [\"2\"] }] }", "GET /x?version=2", "GET /x?version=20")]
    [InlineData("{ query: [{ name: version, values: [\"2\"], mode: exact }] }", "GET /x?a=1&version=2", "GET /x?version=3")]
    [InlineData("{ query: [{ name: q, values: [ab], mode: prefix }] }", "GET /x?q=abc", "GET /x?q=cab")]
    [InlineData("{ query: [{ name: q, values: [bc], mode: contains }] }", "GET /x?q=abcd", "GET /x?q=acbd")]
    [InlineData("{ query: [{ name: debug, mode: exists }] }", "GET /x?debug=1", "GET /x?verbose=1")]
    [InlineData("{ hosts: [api.test], path_prefix: /v1, methods: [GET], headers: [{ name: X-Canary, values: [\"true\"] }], query: [{ name: version, values: [\"2\"] }] }",
        "GET /v1/a?version=2 Host=api.test X-Canary=true", "GET /v1/a?version=2 Host=api.test X-Canary=false")]
    [CoversKey("routes[].id", "routes[].cluster", "clusters[].id", "clusters[].destinations[].url")]
    [CoversKey("routes[].match.hosts", "routes[].match.path", "routes[].match.path_prefix", "routes[].match.methods")]
    [CoversKey("routes[].match.headers[].name", "routes[].match.headers[].values", "routes[].match.headers[].mode=exact",
        "routes[].match.headers[].mode=prefix", "routes[].match.headers[].mode=contains", "routes[].match.headers[].mode=exists",
        "routes[].match.headers[].mode=not_exists")]
    [CoversKey("routes[].match.query[].name", "routes[].match.query[].values", "routes[].match.query[].mode=exact",
        "routes[].match.query[].mode=prefix", "routes[].match.query[].mode=contains", "routes[].match.query[].mode=exists")]
    public async Task Match_Condition_LetsTheMatchInAndKeepsTheNearMissOut(string match, string hit, string miss)
    {
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, match));

        using var matched = await Probe.SendAsync(edge.Client, hit);
        using var missed = await Probe.SendAsync(edge.Client, miss);

        Assert.StartsWith("/hit/", (await Probe.SeenAsync(matched)).Path + "/");
        Assert.StartsWith("/other/", (await Probe.SeenAsync(missed)).Path + "/");
    }

    [Theory]
    [InlineData(1, 2, "/hit/")]
    [InlineData(2, 1, "/other/")]
    [CoversKey("routes[].order")]
    public async Task Order_TwoRoutesMatchTheSameRequest_LowerOrderWins(int probeOrder, int otherOrder, string expected)
    {
        await using var origin = await Probe.StartEchoAsync();
        // 'other' (every path) matches /o/x too; without order the more specific prefix route would always win.
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "{ path_prefix: /o }",
            probeExtra: $"    order: {probeOrder}", otherExtra: $"    order: {otherOrder}"));

        using var response = await edge.Client.GetAsync("/o/x");

        Assert.StartsWith(expected, (await Probe.SeenAsync(response)).Path);
    }
}
