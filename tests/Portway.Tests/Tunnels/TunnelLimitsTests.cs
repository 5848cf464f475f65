using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portway.Edge.Tunnels;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>tunnels.tokens[].limits (docs/tunnels.md#limits) at their boundaries, through real agents.</summary>
public sealed class TunnelLimitsTests
{
    private static string Edge(string limits, string extra = "") => $$"""
        tunnels:
          tcp_ports: 0
          tokens:
            - name: alice
              sha256: {{TokenAuthenticator.Hash("alice-token")}}
              allowed_patterns: ["*"]
              limits: {{limits}}
            - name: bob
              sha256: {{TokenAuthenticator.Hash("bob-token")}}
              allowed_patterns: ["*"]
        {{extra}}
        """;

    private static async Task<HttpStatusCode> Get(HttpClient client, Uri url)
    {
        using var response = await client.GetAsync(url);
        return response.StatusCode;
    }

    [Fact]
    [CoversKey("tunnels.tokens[].limits.requests", "tunnels.tokens[].limits.per")]
    public async Task Requests_AcrossTheTokensTunnels_OneOverTheRateGets429WithRetryAfter()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge("{ requests: 3, per: 1h }"));
        await using var one = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-one"), token: "alice-token");
        await using var two = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-two"), token: "alice-token");
        await using var bob = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "bob-app"), token: "bob-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        Assert.Equal(HttpStatusCode.OK, await Get(client, one.Url));
        Assert.Equal(HttpStatusCode.OK, await Get(client, two.Url));
        Assert.Equal(HttpStatusCode.OK, await Get(client, one.Url));
        using var refused = await client.GetAsync(two.Url);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(50), "the bucket refills after the hour");
        Assert.Contains("at most 3 requests per 3600 s", await refused.Content.ReadAsStringAsync());
        Assert.Equal(3, local.Requests);

        // Another token's tunnels have their own (no) limits.
        Assert.Equal(HttpStatusCode.OK, await Get(client, bob.Url));
    }

    [Fact]
    [CoversKey("tunnels.tokens[].limits.connections")]
    public async Task Connections_AtTheLimit_TheNextRequestGets503_AFreedSlotServesAgain()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        await using var local = await TestOrigin.StartAsync("local", async ctx =>
        {
            if (ctx.Request.Path == "/slow")
            {
                Interlocked.Increment(ref entered);
                await release.Task;
            }
            await ctx.Response.WriteAsync("done");
        });
        await using var edge = await TestEdge.StartAsync(Edge("{ connections: 2 }"));
        await using var one = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-one"), token: "alice-token");
        await using var two = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-two"), token: "alice-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        var held = new[] { Get(client, new Uri(one.Url, "/slow")), Get(client, new Uri(two.Url, "/slow")) };
        await Wait.UntilAsync(() => Volatile.Read(ref entered) == 2, because: "both requests reach the local server");
        using (var busy = await client.GetAsync(one.Url))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.Contains("already serving 2 requests at once", await busy.Content.ReadAsStringAsync());
        }
        Assert.Equal(2, local.Requests);

        release.SetResult();
        Assert.All(await Task.WhenAll(held), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.OK, await Get(client, two.Url));
    }

    [Fact]
    public async Task Connections_ForTcpTunnels_OneOverTheLimitIsClosed_AndCountsWithTheOthers()
    {
        using var local = new TcpListener(IPAddress.Loopback, 0);
        local.Start();
        var accepted = 0;
        var server = Task.Run(async () =>
        {
            while (true)
            {
                var conn = await local.AcceptTcpClientAsync();
                Interlocked.Increment(ref accepted);
                _ = Task.Run(async () =>
                {
                    using var _ = conn;
                    var s = conn.GetStream();
                    await s.CopyToAsync(s);
                });
            }
        });
        await using var edge = await TestEdge.StartAsync(Edge("{ connections: 1 }"));
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Tcp(((IPEndPoint)local.LocalEndpoint).Port), token: "alice-token");

        using var first = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, agent.Url.Port);
        await Echo(first.GetStream(), "one");

        using (var second = new TcpClient())
        {
            await second.ConnectAsync(IPAddress.Loopback, agent.Url.Port);
            var buffer = new byte[16];
            Assert.Equal(0, await second.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(15)));
        }
        Assert.Equal(1, Volatile.Read(ref accepted));

        first.Close();
        await Wait.UntilAsync(async () =>
        {
            using var again = new TcpClient();
            await again.ConnectAsync(IPAddress.Loopback, agent.Url.Port);
            try
            {
                await Echo(again.GetStream(), "two");
                return true;
            }
            catch (IOException)
            {
                return false; // the first connection's slot is freed once its stream ends on the edge
            }
        }, because: "a freed slot takes a new connection");
    }

    private static async Task Echo(NetworkStream stream, string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        await stream.WriteAsync(bytes);
        var back = new byte[bytes.Length];
        await stream.ReadExactlyAsync(back).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(text, System.Text.Encoding.ASCII.GetString(back));
    }

    [Fact]
    [CoversKey("tunnels.tokens[].limits.bandwidth")]
    public async Task Bandwidth_ShapesTheTokensDownloads_ToTheRateOnTheEdgesClock()
    {
        const int size = 1024 * 1024;
        await using var local = await TestOrigin.StartAsync("local", ctx => ctx.Response.Body.WriteAsync(new byte[size]).AsTask());
        var time = new FakeTimeProvider();
        await using var edge = await TestEdge.StartAsync(Edge("{ bandwidth: 64k }"), services => services.AddSingleton<TimeProvider>(time));
        await using var alice = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-app"), token: "alice-token");
        await using var bob = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "bob-app"), token: "bob-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        // Unlimited token: the whole body without the clock moving.
        Assert.Equal(size, (await client.GetByteArrayAsync(bob.Url)).Length);

        // 64 KiB a second: the edge's clock has to move about 15 s for 1 MiB (one second's worth is
        // in the bucket at the start). Each step waits until more bytes arrived.
        using var response = await client.GetAsync(alice.Url, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        long received = 0;
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0) Interlocked.Add(ref received, n);
        });
        var seconds = 0;
        while (!reader.IsCompleted)
        {
            var before = Interlocked.Read(ref received);
            time.Advance(TimeSpan.FromSeconds(1));
            seconds++;
            await Wait.UntilAsync(() => Interlocked.Read(ref received) > before || reader.IsCompleted, because: "a second's worth of bytes is let through");
            Assert.True(seconds < 40, "the download finishes");
        }
        await reader;
        Assert.Equal(size, Interlocked.Read(ref received));
        Assert.InRange(seconds, 12, 20);
    }

    [Theory]
    [InlineData("{ bandwidth: 100 }", "limits.bandwidth: 100 bytes/s is too little for a link")]
    [InlineData("{ per: 1s }", "limits.per: needs requests")]
    [InlineData("{ connectons: 5 }", "limits.connectons: unknown key; did you mean 'connections'?")]
    public void Load_BadLimits_LocatedErrors(string limits, string expected)
    {
        var error = Assert.Throws<Portway.Configuration.ConfigException>(() => Portway.Configuration.ConfigLoader.Parse(Edge(limits), "t.yaml"));
        Assert.Contains(expected, Assert.Single(error.Errors).ToString());
    }
}
