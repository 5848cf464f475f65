using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>circuit_breaker (docs/policy.md) through the real edge, with the edge's clock a FakeTimeProvider.</summary>
public sealed class CircuitBreakerTests
{
    /// <summary>An origin whose status the test sets, and which can hold its answers until released.</summary>
    private sealed class Switchable
    {
        public volatile int Status = 200;
        public TaskCompletionSource Hold = CompletedHold();

        public async Task Handle(HttpContext context)
        {
            await Hold.Task;
            context.Response.StatusCode = Status;
            await context.Response.WriteAsync("origin " + Status);
        }

        public static TaskCompletionSource CompletedHold()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            done.SetResult();
            return done;
        }
    }

    // Passive ejection is pushed out of the way: these tests look at the breaker alone.
    private static string TwoClusters(Uri a, Uri b, string breaker) => $$"""
        routes:
          - id: a1
            match: { path_prefix: /a1 }
            cluster: a
          - id: a2
            match: { path_prefix: /a2 }
            cluster: a
          - id: b
            match: { path_prefix: /b }
            cluster: b
        clusters:
          - id: a
            destinations: [{{a}}]
            health: { passive: { consecutive_failures: 1000 } }
            rules:
              - circuit_breaker: {{breaker}}
          - id: b
            destinations: [{{b}}]
            health: { passive: { consecutive_failures: 1000 } }
            rules:
              - circuit_breaker: {{breaker}}
        """;

    private static Action<IServiceCollection> Services(FakeTimeProvider time, LogCapture? logs = null) => services =>
    {
        services.AddSingleton<TimeProvider>(time);
        if (logs is not null) services.AddSingleton<ILoggerProvider>(logs);
    };

    private static async Task<HttpStatusCode> Get(TestEdge edge, string path)
    {
        using var response = await edge.Client.GetAsync(path);
        return response.StatusCode;
    }

    [Fact]
    [CoversKey("rules[].circuit_breaker.error_ratio", "rules[].circuit_breaker.min_requests", "clusters[].rules[].circuit_breaker.error_ratio", "clusters[].rules[].circuit_breaker.min_requests")]
    public async Task ClusterBreaker_OpensExactlyAtTheRatio_ThenAnswers503WithoutTheOrigin_OtherClusterUnaffected()
    {
        var failing = new Switchable();
        await using var a = await TestOrigin.StartAsync("a", failing.Handle);
        await using var b = await TestOrigin.StartAsync("b", ctx => { ctx.Response.StatusCode = 500; return Task.CompletedTask; });
        var logs = new LogCapture();
        await using var edge = await TestEdge.StartAsync(TwoClusters(a.Url, b.Url, "{ error_ratio: 0.5, min_requests: 6, open_for: 30s }"),
            Services(new FakeTimeProvider(), logs));

        // 3 successes, then failures: 1/4 and 2/5 stay below one half; the 6th request makes 3/6.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await Get(edge, "/a1"));
        failing.Status = 500;
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a2"));
        Assert.Equal(5, a.Requests);
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(6, a.Requests);

        // Open: both routes to cluster a get the breaker's page, and the origin sees nothing.
        using var open = await edge.Client.GetAsync("/a2");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), open.Headers.RetryAfter?.Delta);
        Assert.Contains("are failing", await open.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/a1"));
        Assert.Equal(6, a.Requests);

        // Cluster b has its own breaker: 5 of its 500s are below min_requests, and they pass through.
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/b"));
        Assert.Equal(5, b.Requests);

        Assert.Single(logs.AtLeast(LogLevel.Warning), l => l.Contains("Circuit breaker for a opened: 3 of 6 requests failed", StringComparison.Ordinal));
        using var admin = new HttpClient { BaseAddress = edge.AdminUrl };
        Assert.Matches("portway_circuit_breaker_transitions_total\\{[^}]*cluster=\"a\",state=\"open\"\\} 1\n", await admin.GetStringAsync("/metrics"));
    }

    [Fact]
    [CoversKey("rules[].circuit_breaker.open_for", "rules[].circuit_breaker.half_open_requests", "clusters[].rules[].circuit_breaker.open_for", "clusters[].rules[].circuit_breaker.half_open_requests")]
    public async Task HalfOpen_AfterOpenFor_LetsExactlyTheProbesThrough_AndTheirSuccessCloses()
    {
        var origin = new Switchable { Status = 500 };
        await using var a = await TestOrigin.StartAsync("a", origin.Handle);
        await using var b = await TestOrigin.StartAsync("b");
        var time = new FakeTimeProvider();
        var logs = new LogCapture();
        await using var edge = await TestEdge.StartAsync(TwoClusters(a.Url, b.Url, "{ error_ratio: 1, min_requests: 2, open_for: 20s, half_open_requests: 2 }"),
            Services(time, logs));
        await Get(edge, "/a1");
        await Get(edge, "/a1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/a1"));

        time.Advance(TimeSpan.FromSeconds(19));
        using (var stillOpen = await edge.Client.GetAsync("/a1"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stillOpen.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), stillOpen.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(2, a.Requests);

        // Half-open: the origin holds its answers, so the two probes are in flight together and a
        // third request finds no probe slot left.
        time.Advance(TimeSpan.FromSeconds(1));
        origin.Status = 200;
        origin.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probes = new[] { Get(edge, "/a1"), Get(edge, "/a2") };
        await Wait.UntilAsync(() => a.Requests == 4, because: "both probes reach the origin");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/a1"));
        Assert.Equal(4, a.Requests);
        origin.Hold.SetResult();
        Assert.All(await Task.WhenAll(probes), s => Assert.Equal(HttpStatusCode.OK, s));

        // Closed again, with a fresh window: one failure is below min_requests.
        Assert.Equal(HttpStatusCode.OK, await Get(edge, "/a1"));
        origin.Status = 500;
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(6, a.Requests);
        var lines = logs.AtLeast(LogLevel.Information).Where(l => l.Contains("Circuit breaker for a", StringComparison.Ordinal)).ToList();
        Assert.Collection(lines,
            l => Assert.Contains("opened: 2 of 2 requests failed", l),
            l => Assert.Contains("half-open: letting 2 requests through", l),
            l => Assert.Contains("closed: 2 test requests succeeded", l));
    }

    [Fact]
    public async Task HalfOpen_AFailingProbe_OpensAgainForAnotherOpenFor()
    {
        var origin = new Switchable { Status = 500 };
        await using var a = await TestOrigin.StartAsync("a", origin.Handle);
        await using var b = await TestOrigin.StartAsync("b");
        var time = new FakeTimeProvider();
        await using var edge = await TestEdge.StartAsync(TwoClusters(a.Url, b.Url, "{ error_ratio: 1, min_requests: 1, open_for: 10s, half_open_requests: 3 }"),
            Services(time));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/a1"));

        time.Advance(TimeSpan.FromSeconds(10));
        origin.Status = 200;
        Assert.Equal(HttpStatusCode.OK, await Get(edge, "/a1"));
        origin.Status = 500;
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(3, a.Requests);

        // The second probe failed: open for the whole open_for again, the third probe never runs.
        origin.Status = 200;
        using var reopened = await edge.Client.GetAsync("/a1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reopened.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(10), reopened.Headers.RetryAfter?.Delta);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/a1"));
        Assert.Equal(3, a.Requests);
    }

    [Fact]
    [CoversKey("rules[].circuit_breaker.window", "clusters[].rules[].circuit_breaker.window")]
    public async Task Window_FailuresOlderThanTheWindow_NoLongerCount()
    {
        var origin = new Switchable { Status = 500 };
        await using var a = await TestOrigin.StartAsync("a", origin.Handle);
        await using var b = await TestOrigin.StartAsync("b");
        var time = new FakeTimeProvider();
        await using var edge = await TestEdge.StartAsync(TwoClusters(a.Url, b.Url, "{ error_ratio: 1, min_requests: 2, window: 10s }"), Services(time));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/a1"));
        Assert.Equal(3, a.Requests);
    }

    [Fact]
    [CoversKey("rules[].circuit_breaker.errors")]
    public async Task Errors_OnlyTheListedFailuresCount_ConnectCountsARefusedConnection()
    {
        await using var a = await TestOrigin.StartAsync("a", ctx => { ctx.Response.StatusCode = 500; return Task.CompletedTask; });
        var dead = new Uri($"http://127.0.0.1:{Cluster.DeadPort()}/");
        await using var edge = await TestEdge.StartAsync(TwoClusters(a.Url, dead, "{ error_ratio: 1, min_requests: 2, errors: [connect] }"),
            Services(new FakeTimeProvider()));
        for (var i = 0; i < 4; i++) Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/a1"));
        Assert.Equal(4, a.Requests);

        Assert.Equal(HttpStatusCode.BadGateway, await Get(edge, "/b"));
        Assert.Equal(HttpStatusCode.BadGateway, await Get(edge, "/b"));
        using var open = await edge.Client.GetAsync("/b");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
        Assert.Contains("circuit breaker open", await open.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RouteBreaker_IsTheRoutesOwn_AnotherRouteToTheSameClusterStillForwards()
    {
        var origin = new Switchable { Status = 500 };
        await using var a = await TestOrigin.StartAsync("a", origin.Handle);
        await using var edge = await TestEdge.StartAsync($$"""
            routes:
              - id: one
                match: { path_prefix: /one }
                cluster: a
                rules:
                  - circuit_breaker: { error_ratio: 1, min_requests: 1 }
              - id: two
                match: { path_prefix: /two }
                cluster: a
                rules:
                  - circuit_breaker: { error_ratio: 1, min_requests: 2 }
            clusters:
              - id: a
                destinations: [{{a.Url}}]
                health: { passive: { consecutive_failures: 1000 } }
            """, Services(new FakeTimeProvider()));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/one"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(edge, "/one"));
        Assert.Equal(HttpStatusCode.InternalServerError, await Get(edge, "/two"));
        Assert.Equal(2, a.Requests);
    }

    [Theory]
    [InlineData("{ errors: [5xx, oops] }", "t.yaml:8:42: routes[0].rules[0].circuit_breaker.errors: 'oops' is not a failure the breaker can count; allowed: 5xx, timeout, connect, reset")]
    [InlineData("{ error_ratio: 2 }", "t.yaml:8:41: routes[0].rules[0].circuit_breaker.error_ratio: '2' is not a number from 0.01 to 1")]
    [InlineData("{ open_for: 10ms }", "t.yaml:8:38: routes[0].rules[0].circuit_breaker.open_for: '10ms' must be at least 1s")]
    public void Load_BadValue_LocatedErrorSaysWhatIsAllowed(string rule, string expected) => RuleConfigErrors.Assert("circuit_breaker: " + rule, expected);
}
