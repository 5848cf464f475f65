using Microsoft.AspNetCore.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>
/// RFC 9213 §2.1: CDN-Cache-Control is a Structured Field Dictionary (RFC 8941 §3.2). One that
/// fails to parse is ignored as a whole and Cache-Control governs; a valid one replaces
/// Cache-Control and Expires, with parameters ignored and ?0 meaning "not this directive".
/// </summary>
public sealed class CdnCacheControl_Rfc9213_Tests
{
    private static Func<HttpContext, Task> Respond(string cdn, string cacheControl) => ctx =>
    {
        ctx.Response.Headers.CacheControl = cacheControl;
        ctx.Response.Headers["CDN-Cache-Control"] = cdn;
        return ctx.Response.WriteAsync("x");
    };

    /// <summary>Each would give 60 s of freshness if read directive by directive; none is a Dictionary.</summary>
    public static TheoryData<string> NotADictionary =>
    [
        "max-age=60, Private",        // keys are lower-case
        "max-age=60,",                // trailing comma
        "max-age=60;",                // parameter without a key
        "max-age=60 s-maxage=60",     // members are comma-separated
        "max-age=60, private=\"x",    // unterminated string
        "max-age=60, x=1.2345",       // four decimal places
        "max-age=60, x=(a b",         // unterminated inner list
        "max-age=60, x=?2",           // not a boolean
        "max-age=60, x=:abc",         // unterminated byte sequence
        "max-age=60, x=@1659578233",  // a date is RFC 9651, not RFC 8941
        "max-age=60, 1x",             // keys start with lcalpha or *
    ];

    [Theory]
    [MemberData(nameof(NotADictionary))]
    public async Task CdnCacheControl_NotADictionary_IgnoredCacheControlGoverns(string cdn)
    {
        await using var h = await CacheHarness.StartAsync(Respond(cdn, "no-store"));
        var first = await h.GetAsync("/c");
        Assert.Contains("detail=no-store", first.CacheStatus());
        Assert.False((await h.GetAsync("/c")).IsHit());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task CdnCacheControl_NotADictionary_CacheControlLifetimeUsed()
    {
        await using var h = await CacheHarness.StartAsync(Respond("max-age=600, No-Store", "max-age=30"));
        var first = await h.GetAsync("/c");
        Assert.Contains("ttl=30;", first.CacheStatus());
    }

    [Theory]
    [InlineData("max-age=60;x=1")]              // parameters are ignored (RFC 9213 §2.1)
    [InlineData("max-age=60, no-store=?0")]     // a false boolean is no directive
    [InlineData("max-age=60, must-revalidate;x, x-ext=(a \"b\" :AQ==: ?1);p=1.5")]
    [InlineData("  max-age=60  ")]
    public async Task CdnCacheControl_ValidDictionary_Governs(string cdn)
    {
        await using var h = await CacheHarness.StartAsync(Respond(cdn, "no-store"));
        var first = await h.GetAsync("/c");
        Assert.Contains("ttl=60;", first.CacheStatus());
        h.Advance(TimeSpan.FromSeconds(30));
        Assert.True((await h.GetAsync("/c")).IsHit());
        Assert.Equal(1, h.OriginRequests);
    }

    [Theory]
    [InlineData("x=(\"a, max-age=600, b\")", "detail=no-freshness")]
    [InlineData("max-age=5;p=\", s-maxage=600\"", "ttl=5;")]
    [InlineData("max-age=5, x=\"a, s-maxage=600\"", "ttl=5;")]
    [InlineData("max-age=5, x=(\"b\" \", s-maxage=600\");q=\", s-maxage=700\"", "ttl=5;")]
    public async Task CdnCacheControl_CommaInsideStringOrInnerList_StartsNoDirective(string cdn, string expected)
    {
        await using var h = await CacheHarness.StartAsync(Respond(cdn, "max-age=900"));
        Assert.Contains(expected, (await h.GetAsync("/c")).CacheStatus());
    }

    [Theory]
    [InlineData("max-age=\"60\"")]  // an sf-string, not the sf-integer max-age takes
    [InlineData("max-age=60.0")]    // an sf-decimal
    public async Task CdnCacheControl_DurationNotAnInteger_Stale(string cdn)
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.ETag = "\"v1\"";
            return Respond(cdn, "max-age=600")(ctx);
        });
        var first = await h.GetAsync("/c");
        Assert.Contains("ttl=0;", first.CacheStatus());
        Assert.False((await h.GetAsync("/c")).IsHit());
    }

    [Fact]
    public async Task CdnCacheControl_Empty_IgnoredCacheControlGoverns()
    {
        await using var h = await CacheHarness.StartAsync(Respond("", "max-age=30"));
        Assert.Contains("ttl=30;", (await h.GetAsync("/c")).CacheStatus());
    }
}
