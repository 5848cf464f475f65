using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Retries;

public sealed class TimeoutTests
{
    [Fact]
    [CoversKey("clusters[].timeouts.response")]
    public async Task Get_DestinationSlowerThanResponseTimeout_504Page()
    {
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            await ctx.Response.WriteAsync("late");
        });
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([slow], """
                timeouts:
                  response: 300ms
            """));

        using var response = await edge.Client.GetAsync("/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer in time", body);
        Assert.Contains("cluster 'app'", body);
        // Not retried: the request reached the server, which may still be working on it.
        Assert.Equal(1, slow.Requests);
    }

    [Fact]
    public async Task Get_RouteTimeoutElapses_504PageNamesTheRoute()
    {
        await using var slow = await TestOrigin.StartAsync("slow", async ctx =>
        {
            if (ctx.Request.Path == "/fast") { await ctx.Response.WriteAsync("fast"); return; }
            await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            await ctx.Response.WriteAsync("late");
        });
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: api
                cluster: app
                timeout: 300ms
            clusters:
              - id: app
                destinations: [{slow.Url}]
            """);

        // A request within the limit is answered (a route with a timeout once answered every request with a 500).
        using var fast = await edge.Client.GetAsync("/fast");
        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
        Assert.Equal("fast", await fast.Content.ReadAsStringAsync());

        using var response = await edge.Client.GetAsync("/slow");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("Route 'api'", body);
        Assert.Contains("routes[].timeout", body);
    }

    [Fact]
    public async Task Get_NothingListening_502PageSaysConnectionRefused()
    {
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{Cluster.DeadPort()}/"]));

        using var response = await edge.Client.GetAsync("/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("connection refused", body);
    }

    [Fact]
    public async Task Get_ConnectNeverCompletes_504PageSaysCouldNotConnect()
    {
        using var blackhole = await Blackhole.StartAsync();
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{blackhole.Port}/"], """
                timeouts:
                  connect: 300ms
            """));

        using var response = await edge.Client.GetAsync("/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("Could not connect to", body);
        Assert.Contains("in time", body);
    }

    [Fact]
    public async Task Get_ConnectTimesOutOnOne_RetriedOnTheOther()
    {
        using var blackhole = await Blackhole.StartAsync();
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{blackhole.Port}/", a.Url.ToString()], """
                load_balancing: first_available
                timeouts:
                  connect: 1s
            """));

        using var response = await edge.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", Cluster.OriginOf(response));
    }
}
