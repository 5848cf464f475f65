using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Retries;

public sealed class RetryTests
{
    [Fact]
    public async Task Get_OneDestinationRefuses_RetriedOnTheOtherEveryTime()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"]));

        var tally = await Cluster.TallyAsync(edge.Client, 20);

        // Round robin sends every other request to the dead port; each is retried on 'a'.
        Assert.Equal(20, tally["a"]);
        Assert.Equal(20, a.Requests);
    }

    [Fact]
    public async Task Get_Retried_CountedOnAdminMetrics()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"], clusterId: "retry-metrics"));
        await Cluster.TallyAsync(edge.Client, 4);

        using var admin = new HttpClient { BaseAddress = edge.AdminUrl };
        var metrics = await admin.GetStringAsync("/metrics");

        // Round robin sent 2 of the 4 requests to the dead port first.
        Assert.Matches("portway_retries_total\\{[^}]*cluster=\"retry-metrics\",outcome=\"retried\"\\} 2\n", metrics);
    }

    [Fact]
    public async Task Post_OneDestinationRefuses_NotRetriedByDefault()
    {
        await using var a = await TestOrigin.StartAsync("a", Echo);
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"]));

        var statuses = await PostManyAsync(edge, 10);

        // A POST may have taken effect, so it is never sent twice unless configured.
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.BadGateway));
    }

    [Fact]
    [CoversKey("clusters[].retries.non_idempotent")]
    public async Task Post_NonIdempotentAllowed_RetriedWithBodyIntact()
    {
        await using var a = await TestOrigin.StartAsync("a", Echo);
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"], """
                retries:
                  non_idempotent: true
            """));

        var statuses = await PostManyAsync(edge, 10);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    [CoversKey("clusters[].retries.attempts")]
    public async Task Get_AttemptsOne_RefusedConnectionIs502Page()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"], """
                retries:
                  attempts: 1
            """));

        var tally = await Cluster.TallyAsync(edge.Client, 10);

        Assert.Equal(5, tally["a"]);
        Assert.Equal(5, tally["status 502"]);
    }

    [Fact]
    public async Task Get_DestinationDropsConnectionAfterReadingRequest_RetriedOnTheOther()
    {
        // No response byte came back: an idempotent request goes to the next server (nginx's proxy_next_upstream error).
        using var dropper = new TcpListener(IPAddress.Loopback, 0);
        dropper.Start();
        var dropped = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await dropper.AcceptSocketAsync();
                var buffer = new byte[4096];
                var received = new StringBuilder();
                while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0) break;
                    received.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                Interlocked.Increment(ref dropped);
                socket.Close(0);
            }
        });
        await using var a = await TestOrigin.StartAsync("a");
        var dropperUrl = $"http://127.0.0.1:{((IPEndPoint)dropper.LocalEndpoint).Port}/";
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([dropperUrl, a.Url.ToString()], "    load_balancing: first_available"));

        using var response = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, Volatile.Read(ref dropped));

        // A POST is not: the server read it and may have acted on it.
        using var post = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("x") };
        await using var edge2 = await TestEdge.StartAsync(Cluster.Yaml([dropperUrl, a.Url.ToString()], "    load_balancing: first_available", clusterId: "drop-post"));
        using var postResponse = await edge2.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.BadGateway, postResponse.StatusCode);
        Assert.Contains("not sent again", await postResponse.Content.ReadAsStringAsync());
        Assert.Equal(1, a.Requests);
        Assert.Equal(2, Volatile.Read(ref dropped));
    }

    [Fact]
    [CoversKey("clusters[].retries.budget_percent")]
    public async Task Get_ManyRefusals_BudgetCapsRetries()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a.Url.ToString(), $"http://127.0.0.1:{Cluster.DeadPort()}/"], """
                retries:
                  attempts: 3
                  budget_percent: 0
            """));

        var tally = await Cluster.TallyAsync(edge.Client, 300);

        // 150 requests meet the dead port. With budget_percent 0 only the floor of 10 retries/s over
        // the 10 s window (100) may be retried; the rest fail rather than add load. (Exactly 50 fail
        // when the run fits in the window; a slow machine lets the oldest retries age out.)
        var failed = tally.GetValueOrDefault("status 502");
        Assert.InRange(failed, 20, 50);
        Assert.Equal(300 - failed, tally["a"]);
    }

    private static Task Echo(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/plain";
        return ctx.Request.Body.CopyToAsync(ctx.Response.Body);
    }

    private static async Task<List<HttpStatusCode>> PostManyAsync(TestEdge edge, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            var body = $"order-{i}-" + new string('x', 1000);
            using var response = await edge.Client.PostAsync("/orders", new StringContent(body));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.OK) Assert.Equal(body, await response.Content.ReadAsStringAsync());
        }
        return statuses;
    }
}
