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

    [Fact]
    public async Task Http2Visitor_ThroughTunnel_Works()
    {
        await using var origin = await TestOrigin.StartAsync("local", ctx => ctx.Response.WriteAsync("visitor=" + ctx.Request.Headers["X-Forwarded-Proto"]));
        // Agents link over HTTP/1.1 (the upgrade); visitors use the cleartext HTTP/2 listener.
        await using var edge = await TestEdge.StartAsync("listeners:\n  - name: h1\n    url: http://127.0.0.1:0\n  - name: h2\n    url: http://127.0.0.1:0\n    protocols: http2\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();
        var h2 = new Uri(edge.Host.Addresses.First(a => a.Purpose.Contains("'h2'", StringComparison.Ordinal)).Url);
        var url = new UriBuilder(agent.Url) { Port = h2.Port }.Uri;

        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var response = await client.SendAsync(request);

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("visitor=http", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task VisitorDisconnects_LocalServerSeesAbort()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            ctx.RequestAborted.Register(() => aborted.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted).ContinueWith(_ => { });
        });
        await using var edge = await TestEdge.StartAsync("");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();
        using var cts = new CancellationTokenSource();

        var pending = client.GetAsync(agent.Url, cts.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }
}
