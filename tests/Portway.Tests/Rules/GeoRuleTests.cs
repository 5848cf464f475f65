using System.Net;
using Portway.Configuration;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>The geo rule through the real edge: clients of a trusted proxy, placed in regions by geo.regions' CIDR table.</summary>
public sealed class GeoRuleTests
{
    private static string Config(string rule, Uri origin) => $"""
        forwarded:
          trusted_proxies: [127.0.0.1]
        geo:
          regions:
            eu: [203.0.113.0/24, 2001:db8:e0::/48]
            blocked: [203.0.113.66]
            us: [198.51.100.0/24]
        routes:
          - id: web
            cluster: app
            rules:
              - {rule}
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    private static async Task<HttpResponseMessage> From(TestEdge edge, string client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Forwarded-For", client);
        return await edge.Client.SendAsync(request);
    }

    [Fact]
    [CoversKey("rules[].geo.allow", "rules[].geo.deny")]
    public async Task Geo_AllowAndDeny_DenyWinsOthersRefused()
    {
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Config("geo: { allow: [eu], deny: [blocked] }", origin.Url));

        using (var eu = await From(edge, "203.0.113.9")) Assert.Equal(HttpStatusCode.OK, eu.StatusCode);
        using (var eu6 = await From(edge, "2001:db8:e0::7")) Assert.Equal(HttpStatusCode.OK, eu6.StatusCode);
        using (var blocked = await From(edge, "203.0.113.66"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
            Assert.Contains("203.0.113.66", await blocked.Content.ReadAsStringAsync());
        }
        using (var us = await From(edge, "198.51.100.20")) Assert.Equal(HttpStatusCode.Forbidden, us.StatusCode);
        using (var nowhere = await From(edge, "192.0.2.1"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, nowhere.StatusCode);
            Assert.Contains("not in any region", await nowhere.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Geo_DenyOnly_EveryoneElsePasses()
    {
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Config("geo: { deny: [us] }", origin.Url));
        using (var us = await From(edge, "198.51.100.20")) Assert.Equal(HttpStatusCode.Forbidden, us.StatusCode);
        using (var other = await From(edge, "192.0.2.1")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public void Geo_UnknownRegion_LocatedErrorWithNearestName()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Config("geo: { allow: [ew] }", new Uri("http://127.0.0.1:9")), "p.yaml"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("p.yaml:12:24: routes[0].rules[0].geo.allow: unknown region 'ew' (did you mean 'eu'?); defined regions: eu, blocked, us", error.ToString());
    }

    [Fact]
    public void Geo_NothingToCheck_Error()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Config("geo: {}", new Uri("http://127.0.0.1:9")), "p.yaml"));
        Assert.Contains("checks nothing; give allow and/or deny", Assert.Single(e.Errors).Message);
    }
}
