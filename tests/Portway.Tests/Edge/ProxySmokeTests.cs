using System.Net;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Edge;

public sealed class ProxySmokeTests
{
    [Fact]
    public async Task Get_RouteToOneOrigin_ReturnsOriginBody()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: web
                cluster: app
            clusters:
              - id: app
                destinations:
                  - {origin.Url}
            """);
        var response = await edge.Client.GetAsync("/hello");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("X-Request-Id"));
    }

    [Fact]
    public async Task Get_NoRoutes_FriendlyPageSaysHowToAddOne()
    {
        await using var edge = await TestEdge.StartAsync("");
        var response = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No routes are configured", await response.Content.ReadAsStringAsync());
    }
}
