using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

public sealed class HttpTunnelTests
{
    [Fact]
    public async Task Get_ThroughTunnel_ReachesLocalServerWithVisitorHost()
    {
        await using var origin = await TestOrigin.StartAsync("local", ctx => ctx.Response.WriteAsync($"host={ctx.Request.Host} xff={ctx.Request.Headers["X-Forwarded-For"]} tunnel={ctx.Request.Headers["portway-tunnel"]}"));
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();

        var url = agent.Url;
        Assert.Matches(@"^http://[a-z]+-[a-z]+-[0-9a-f]{4}\.localhost:\d+$", url.ToString().TrimEnd('/'));
        var response = await client.GetAsync(new Uri(url, "/hello"));

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal($"host={url.Authority} xff=127.0.0.1 tunnel=", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_Body_EchoedBack()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            ctx.Response.ContentType = ctx.Request.ContentType;
            await ctx.Request.Body.CopyToAsync(ctx.Response.Body);
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();

        var response = await client.PostAsync(new Uri(agent.Url, "/echo"), new StringContent("{\"a\":1}", Encoding.UTF8, "application/json"));

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal("{\"a\":1}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
    }
}
