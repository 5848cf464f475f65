using Microsoft.AspNetCore.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 9211 Cache-Status details and the cache counters on /metrics.</summary>
public sealed class Metrics_Tests
{
    [Fact]
    public async Task Metrics_HitMissStaleAndBytes_Exported()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=10, stale-if-error=100";
            return ctx.Response.WriteAsync("0123456789");
        });
        await h.GetAsync("/m");
        await h.GetAsync("/m");
        await h.GetAsync("/m");
        h.Advance(TimeSpan.FromSeconds(20));
        await h.GetAsync("/m", ("Cache-Control", "max-stale"));
        using var admin = new HttpClient { BaseAddress = h.Edge.AdminUrl };
        var text = await admin.GetStringAsync("/metrics");
        // The exporter sees every "Portway" meter in the process, so tests running beside this one
        // add to the counts: assert lower bounds.
        Assert.True(Counter(text, "portway_cache_requests_total", "result=\"hit\"") >= 2, text);
        Assert.True(Counter(text, "portway_cache_requests_total", "result=\"miss\"") >= 1, text);
        Assert.True(Counter(text, "portway_cache_requests_total", "result=\"stale\"") >= 1, text);
        Assert.True(Counter(text, "portway_cache_served_bytes_total", "") >= 30, text);
        Assert.Contains("portway_cache_objects", text);
    }

    private static double Counter(string text, string name, string label)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal))
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        return -1;
    }

    [Fact]
    public async Task CacheStatus_UpstreamCacheStatus_OursAppended()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=10";
            ctx.Response.Headers["Cache-Status"] = "OriginCache; hit";
            return ctx.Response.WriteAsync("x");
        });
        var r = await h.GetAsync("/m");
        Assert.StartsWith("OriginCache; hit, Portway; fwd=uri-miss", r.CacheStatus());
    }
}
