using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Geo;

/// <summary>match.geo beside tunnels: tunnel routes are untouched by geo file routes, and the agent is given the client's address, not the proxy's.</summary>
public sealed class GeoTunnelTests
{
    [Fact]
    public async Task GeoRoutes_BesideATunnel_TunnelServedAndGivenTheForwardedClient()
    {
        await using var local = await TestOrigin.StartAsync("local", ctx => ctx.Response.WriteAsync($"local xff={ctx.Request.Headers["X-Forwarded-For"]}"));
        await using var eu = await TestOrigin.StartAsync("eu");
        await using var rest = await TestOrigin.StartAsync("rest");
        await using var edge = await TestEdge.StartAsync($"""
            forwarded:
              trusted_proxies: [127.0.0.1]
            geo:
              regions:
                eu: [203.0.113.0/24]
            routes:
              - id: europe
                match: {"{"} geo: [eu] {"}"}
                cluster: eu
              - id: rest
                cluster: rest
            clusters:
              - id: eu
                destinations: [{eu.Url}]
              - id: rest
                destinations: [{rest.Url}]
            """);
        // The agent's own address rule sees the address the edge gives it (portway-client-ip).
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url) with { DenyCidrs = [IPNetwork.Parse("203.0.113.0/24")] });
        using var client = TunnelClient.Create();

        async Task<HttpResponseMessage> Send(Uri url, string forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            return await client.SendAsync(request);
        }
        async Task<string> Get(Uri url, string forwardedFor)
        {
            var response = await Send(url, forwardedFor);
            await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
            return await response.Content.ReadAsStringAsync();
        }

        // The tunnel's name wins over the catch-all geo route, whatever the client's region…
        Assert.Equal("local xff=198.51.100.1, 127.0.0.1", await Get(agent.Url, "198.51.100.1"));
        // …and the agent refuses the forwarded client its rule names, not the proxy (127.0.0.1).
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(agent.Url, "203.0.113.9")).StatusCode);
        Assert.Equal(1, local.Requests);
        // Any other host goes by region.
        var other = new UriBuilder(edge.Url) { Host = "127.0.0.1" }.Uri;
        Assert.Equal("eu", await Get(other, "203.0.113.9"));
        Assert.Equal("rest", await Get(other, "198.51.100.1"));
    }
}
