using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Portway.Agent;
using Portway.Protocol;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>The agent's link over HTTP/2 extended CONNECT (RFC 8441) on listeners that speak only HTTP/2.</summary>
public sealed class Http2LinkTests
{
    private const string H2cOnly = "listeners:\n  - name: h2\n    url: http://127.0.0.1:0\n    protocols: http2\n";

    private const string H1AndH2c = "listeners:\n  - name: h1\n    url: http://127.0.0.1:0\n  - name: h2\n    url: http://127.0.0.1:0\n    protocols: http2\n";

    [Fact]
    public async Task Link_H2cOnlyListener_AutoFallsBackToHttp2_GetAndLargePostWork()
    {
        await using var origin = await TestOrigin.StartAsync("local", async ctx =>
        {
            if (HttpMethods.IsPost(ctx.Request.Method)) await ctx.Request.Body.CopyToAsync(ctx.Response.Body);
            else await ctx.Response.WriteAsync("over h2 link " + ctx.Request.Path);
        });
        await using var edge = await TestEdge.StartAsync(H2cOnly);
        // Default options: --link auto. The HTTP/1.1 upgrade fails on this listener; auto must switch.
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url));
        using var client = TunnelClient.Create();

        using var get = H2(HttpMethod.Get, new Uri(agent.Url, "/hello"));
        var response = await client.SendAsync(get);
        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal("over h2 link /hello", await response.Content.ReadAsStringAsync());

        var payload = new byte[1024 * 1024];
        new Random(8441).NextBytes(payload);
        using var post = H2(HttpMethod.Post, new Uri(agent.Url, "/echo"));
        post.Content = new ByteArrayContent(payload);
        var echoed = await client.SendAsync(post);
        await TunnelAssert.StatusAsync(HttpStatusCode.OK, echoed);
        Assert.Equal(payload, await echoed.Content.ReadAsByteArrayAsync());
        Assert.Equal(SessionState.Online, agent.Status.State);
    }

    [Fact]
    public async Task Link_Http2Mode_SpareLinksStayAndServeAfterStandby()
    {
        await using var origin = await TestOrigin.StartAsync("local", ctx => ctx.Response.WriteAsync("n=" + ctx.Request.Query["n"]));
        await using var edge = await TestEdge.StartAsync(H2cOnly);
        await using var agent = await TestAgent.StartAsync(new AgentOptions { Edge = edge.Url, Link = LinkTransport.Http2, MinLinks = 3, Tunnels = [TestAgent.Http(origin.Url)] });
        using var client = TunnelClient.Create();

        // Several requests in parallel activate more than one link; each must carry HTTP/2 inside HTTP/2.
        var tasks = new Task<string>[20];
        for (var i = 0; i < tasks.Length; i++)
        {
            var n = i;
            tasks[i] = Task.Run(async () =>
            {
                using var request = H2(HttpMethod.Get, new Uri(agent.Url, "/?n=" + n));
                var r = await client.SendAsync(request);
                return await r.Content.ReadAsStringAsync();
            });
        }
        var bodies = await Task.WhenAll(tasks);
        for (var i = 0; i < bodies.Length; i++) Assert.Equal("n=" + i, bodies[i]);
        await Wait.UntilAsync(() => agent.Status.Links >= 3, because: "the agent keeps its links (and a spare) over HTTP/2");
    }

    [Fact]
    public async Task Link_BadTokenOverHttp2_RefusedLikeOverHttp1()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(H1AndH2c + TunnelLifecycleTests.TokenConfig("alice", "right-token"));
        var h1 = Listener(edge, "h1");
        var h2 = Listener(edge, "h2");

        var overHttp1 = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(new AgentOptions
        {
            Edge = h1, Token = "wrong-token", Link = LinkTransport.Http1, Tunnels = [TestAgent.Http(origin.Url)],
        }));
        var overHttp2 = await Assert.ThrowsAsync<LinkRefusedException>(() => TestAgent.StartAsync(new AgentOptions
        {
            Edge = h2, Token = "wrong-token", Tunnels = [TestAgent.Http(origin.Url)],
        }));

        Assert.Equal(401, overHttp2.Status);
        Assert.Equal(overHttp1.Status, overHttp2.Status);
        Assert.Equal(LinkErrorCodes.TokenInvalid, overHttp2.Code);
        Assert.Equal(overHttp1.Code, overHttp2.Code);
        Assert.Equal(overHttp1.Message, overHttp2.Message);
        Assert.True(overHttp2.Permanent);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("http2")]
    public async Task Cli_BadTokenOnH2cOnlyListener_ExitsThreeWithSameMessage(string link)
    {
        await using var edge = await TestEdge.StartAsync(H2cOnly + TunnelLifecycleTests.TokenConfig("alice", "right"));

        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", "3000", "--edge", edge.Url.ToString(), "--token", "wrong", "--link", link, "--inspect", "false");

        Assert.Equal(3, exit);
        Assert.Contains("refused the tunnel: The token is not valid on this edge", stderr);
    }

    [Fact]
    public async Task Cli_UnknownLinkMode_ExitsTwoNamingTheFlag()
    {
        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", "3000", "--link", "h3", "--inspect", "false");

        Assert.Equal(2, exit);
        Assert.Contains("--link: 'h3' is not a link mode; use auto, http1 or http2", stderr);
    }

    [Fact]
    public async Task Link_Http1ModeOnH2cOnlyListener_NeverComesOnline()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(H2cOnly);
        await using var host = AgentHost.Create(new AgentOptions
        {
            Edge = edge.Url, Link = LinkTransport.Http1, Tunnels = [TestAgent.Http(origin.Url)],
            BackoffMin = TimeSpan.FromMilliseconds(100), BackoffMax = TimeSpan.FromSeconds(1),
        });
        await host.StartAsync();
        // --link http1 pins the upgrade: no fallback, so the agent reports the failure and stays offline.
        await Wait.UntilAsync(() => host.Status.LastError is not null, because: "the agent reports the failed link");
        Assert.NotEqual(SessionState.Online, host.Status.State);
    }

    [Fact]
    public async Task Edge_H2cListener_AdvertisesEnableConnectProtocol()
    {
        await using var edge = await TestEdge.StartAsync(H2cOnly);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, edge.Url.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        // RFC 9113 §3.4: the client preface, then an empty SETTINGS frame.
        await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await stream.WriteAsync(new byte[] { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 });

        // The server's first frame is its SETTINGS (RFC 9113 §3.4); RFC 8441 §3 defines 0x8 = 1.
        var header = new byte[9];
        await stream.ReadExactlyAsync(header);
        Assert.Equal(0x4, header[3]);
        var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
        await stream.ReadExactlyAsync(payload);
        var enabled = false;
        for (var i = 0; i + 6 <= payload.Length; i += 6)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i)) == 0x8) enabled = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(i + 2)) == 1;
        }
        Assert.True(enabled, "SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in the edge's SETTINGS");
    }

    [Fact]
    public async Task Link_HttpsListenerWithAlpnH2Only_AutoWithCustomCa_TunnelWorks()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "edge", ["localhost"]);
        var (cert, key) = TestCertificates.WritePem(dir, "edge", leaf, ca);
        var caFile = TestCertificates.WriteCaPem(dir, "ca", ca);
        await using var origin = await TestOrigin.StartAsync("local", ctx => ctx.Response.WriteAsync("over h2 tls link"));
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - name: h1
                url: http://127.0.0.1:0
              - name: h2tls
                url: https://127.0.0.1:0
                protocols: http2
            tls:
              sites:
                - default: true
                  cert: {cert}
                  key: {key}
            """);
        var link = new Uri($"https://localhost:{Listener(edge, "h2tls").Port}");

        // The link's TLS options (here the custom CA) must apply to the HTTP/2 dial as well.
        await using var agent = await TestAgent.StartAsync(new AgentOptions { Edge = link, EdgeCaFile = caFile, Tunnels = [TestAgent.Http(origin.Url)] });
        using var client = TunnelClient.Create();
        var visitor = new UriBuilder(agent.Url) { Scheme = "http", Port = Listener(edge, "h1").Port }.Uri;
        var response = await client.GetAsync(visitor);

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal("over h2 tls link", await response.Content.ReadAsStringAsync());
    }

    internal static HttpRequestMessage H2(HttpMethod method, Uri url) =>
        new(method, url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    private static Uri Listener(TestEdge edge, string name) =>
        new(edge.Host.Addresses.First(a => a.Purpose.Contains($"'{name}'", StringComparison.Ordinal)).Url);
}
