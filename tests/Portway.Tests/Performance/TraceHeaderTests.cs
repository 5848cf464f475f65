using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Performance;

/// <summary>
/// The edge starts no per-request Activity (that cost ~15% CPU per small request, see
/// docs/benchmarks.md), so W3C trace context passes through as the client sent it.
/// </summary>
public sealed class TraceHeaderTests
{
    private const string ClientTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private static Task<TestOrigin> EchoTraceOrigin() => TestOrigin.StartAsync("trace", ctx =>
        ctx.Response.WriteAsync(ctx.Request.Headers.TryGetValue("traceparent", out var v) ? v.ToString() : "(none)"));

    private static string Config(Uri origin) => $"""
        routes:
          - id: web
            cluster: app
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    [Fact]
    public async Task Forward_ClientSentTraceparent_ReachesOriginUnchanged()
    {
        await using var origin = await EchoTraceOrigin();
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("traceparent", ClientTraceparent);
        var body = await (await edge.Client.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Equal(ClientTraceparent, body);
    }

    [Fact]
    public async Task Forward_NoTraceparent_NoneInvented()
    {
        await using var origin = await EchoTraceOrigin();
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));
        var body = await edge.Client.GetStringAsync("/");
        Assert.Equal("(none)", body);
    }
}
