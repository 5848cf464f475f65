using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.LoadBalancing;

public sealed class ConsistentHashTests
{
    private const string HashOnHeader = "    load_balancing: consistent_hash\n    hash_on: header:X-User";

    [Fact]
    [CoversKey("clusters[].hash_on=header:NAME")]
    public async Task ConsistentHash_SameHeader_SameDestinationEveryTime()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], HashOnHeader));

        var first = await MapAsync(edge, 60);
        var second = await MapAsync(edge, 60);

        Assert.Equal(first, second);
        // Sixty keys over three destinations: each gets some (the chance one gets none is ~(2/3)^60).
        Assert.Equal(3, first.Values.Distinct().Count());
    }

    [Fact]
    public async Task ConsistentHash_FourthDestinationJoins_AboutAQuarterOfKeysMoveAllToIt()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var d = await TestOrigin.StartAsync("d");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], HashOnHeader));
        var before = await MapAsync(edge, 1000);

        edge.Host.Apply(Portway.Configuration.ConfigLoader.Parse(TestEdge.WithTestDefaults(Cluster.Yaml([a, b, c, d], HashOnHeader)), edge.ConfigPath));
        await Wait.UntilAsync(() => AnyOnAsync(edge, "d"), because: "the 4th destination takes traffic");
        var after = await MapAsync(edge, 1000);

        var moved = before.Keys.Where(k => before[k] != after[k]).ToList();
        Assert.All(moved, k => Assert.Equal("d", after[k]));
        // Ideal is 1/4 = 250 keys; modulo hashing would move ~750.
        Assert.InRange(moved.Count, 150, 350);
        foreach (var origin in new[] { "a", "b", "c" })
        {
            var share = before.Values.Count(v => v == origin);
            Assert.InRange(share, 200, 470); // each of three holds roughly a third
        }
    }

    [Fact]
    public async Task ConsistentHash_DestinationDown_OnlyItsKeysMove()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        var cDown = new TaskCompletionSource();
        await using var c = await TestOrigin.StartAsync("c", ctx => ctx.Request.Path == "/health" && cDown.Task.IsCompleted ? Fail(ctx) : ctx.Response.WriteAsync("c"));
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], HashOnHeader + """

                health:
                  active:
                    path: /health
                    interval: 100ms
                    timeout: 3s
                    unhealthy_after: 2
                    healthy_after: 1
            """));
        var before = await MapAsync(edge, 200);

        cDown.SetResult();
        await Wait.UntilAsync(() => !Cluster.IsAvailable(edge, "d2"), because: "c fails its probe");
        var after = await MapAsync(edge, 200);

        foreach (var key in before.Keys)
        {
            if (before[key] == "c") Assert.NotEqual("c", after[key]);
            else Assert.Equal(before[key], after[key]);
        }
    }

    private static Task Fail(HttpContext ctx)
    {
        ctx.Response.StatusCode = 503;
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ConsistentHash_NoHeader_FallsBackToClientIpAndSticks()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], HashOnHeader));

        var tally = await Cluster.TallyAsync(edge.Client, 30);

        // Every request comes from 127.0.0.1, so without X-User they all hash to one destination.
        Assert.Single(tally);
    }

    [Fact]
    [CoversKey("clusters[].hash_on=cookie:NAME")]
    public async Task ConsistentHash_Cookie_SameCookieSameDestination()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b], "    load_balancing: consistent_hash\n    hash_on: cookie:session"));

        var seen = new Dictionary<string, HashSet<string>>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 20; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/");
                request.Headers.Add("Cookie", $"theme=dark; session=s{i}");
                using var response = await edge.Client.SendAsync(request);
                (seen.TryGetValue($"s{i}", out var set) ? set : seen[$"s{i}"] = []).Add(Cluster.OriginOf(response));
            }
        }

        Assert.All(seen.Values, origins => Assert.Single(origins));
        Assert.Equal(2, seen.Values.Select(s => s.First()).Distinct().Count());
    }

    private static async Task<HttpResponseMessage> Send(TestEdge edge, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-User", key);
        return await edge.Client.SendAsync(request);
    }

    private static async Task<bool> AnyOnAsync(TestEdge edge, string origin)
    {
        for (var i = 0; i < 20; i++)
        {
            using var response = await Send(edge, $"probe-{i}");
            if (Cluster.OriginOf(response) == origin) return true;
        }
        return false;
    }

    /// <summary>Key → origin for keys user-0 … user-(n-1), sent 8 at a time.</summary>
    private static async Task<Dictionary<string, string>> MapAsync(TestEdge edge, int count)
    {
        var result = new string[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            using var response = await Send(edge, $"user-{i}");
            result[i] = Cluster.OriginOf(response);
        });
        var map = new Dictionary<string, string>();
        for (var i = 0; i < count; i++) map[$"user-{i}"] = result[i];
        return map;
    }
}
