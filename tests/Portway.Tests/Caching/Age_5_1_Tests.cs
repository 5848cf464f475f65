using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>
/// RFC 9111 §5.1: Age is one delta-seconds. A list or repeated lines never make a response look
/// younger than any value in it said (the largest is used); a value that is not delta-seconds
/// makes the response stale (§4.2.1: invalid freshness information); 2^31 is the ceiling (§1.2.2).
/// </summary>
public sealed class Age_5_1_Tests
{
    private static Func<HttpContext, Task> WithAge(StringValues age) => ctx =>
    {
        ctx.Response.Headers.CacheControl = "max-age=3600";
        ctx.Response.Headers.ETag = "\"v1\"";
        ctx.Response.Headers.Age = age;
        return ctx.Response.WriteAsync("x");
    };

    public static TheoryData<string[]> OlderThanLifetime =>
    [
        ["7200, 0"],
        ["0, 7200"],
        ["7200", "0"],
        ["0", "7200"],
        ["100, 7200 ,5"],
    ];

    [Theory]
    [MemberData(nameof(OlderThanLifetime))]
    public async Task Age_ListOrRepeated_LargestValueUsed(string[] lines)
    {
        await using var h = await CacheHarness.StartAsync(WithAge(new StringValues(lines)));
        var first = await h.GetAsync("/a");
        // 3600 s of lifetime, 7200 s old already: stale by an hour (plus a sub-second delay).
        Assert.Contains("ttl=-3600;", first.CacheStatus());
        var second = await h.GetAsync("/a");
        Assert.False(second.IsHit(), second.CacheStatus());
        Assert.Equal(2, h.OriginRequests);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("10, x")]
    [InlineData("+10")]
    public async Task Age_NotDeltaSeconds_TreatedAsStale(string age)
    {
        await using var h = await CacheHarness.StartAsync(WithAge(age));
        var first = await h.GetAsync("/a");
        Assert.Contains("ttl=-", first.CacheStatus());
        var second = await h.GetAsync("/a");
        Assert.False(second.IsHit(), $"{age}: {second.CacheStatus()}");
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Age_ListOfSmallValues_StillFresh()
    {
        await using var h = await CacheHarness.StartAsync(WithAge("10, 20"));
        await h.GetAsync("/a");
        h.Advance(TimeSpan.FromSeconds(5));
        var hit = await h.GetAsync("/a");
        Assert.True(hit.IsHit(), hit.CacheStatus());
        Assert.Equal(25, hit.AgeSeconds());
    }

    [Fact]
    public async Task Age_BeyondTwoToThe31_SentAgeCapped()
    {
        await using var h = await CacheHarness.StartAsync(WithAge("99999999999999999999"));
        await h.GetAsync("/a");
        h.Advance(TimeSpan.FromSeconds(5));
        // Any staleness is acceptable to this client, so the stale entry is served.
        var hit = await h.GetAsync("/a", ("Cache-Control", "max-stale"));
        Assert.True(hit.IsHit(), hit.CacheStatus());
        Assert.Equal("2147483648", hit.Header("Age"));
    }
}
