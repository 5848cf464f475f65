using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>
/// RFC 9111 §5.3: an Expires that is not a valid HTTP-date (RFC 9110 §5.6.7) means already
/// expired; the three forms a recipient must accept (IMF-fixdate, rfc850, asctime) give a
/// lifetime. An invalid Date or Last-Modified is ignored, never fatal.
/// </summary>
public sealed class Expires_5_3_Tests
{
    /// <summary>The response's Expires, written from the instant 30 s after the origin's Date.</summary>
    private static Func<HttpContext, Task> ExpiresIn30s(Func<DateTimeOffset, string> format, Func<DateTimeOffset> now) => ctx =>
    {
        ctx.Response.Headers.Expires = format(now() + TimeSpan.FromSeconds(30));
        ctx.Response.Headers.ETag = "\"v1\"";
        return ctx.Response.WriteAsync("x");
    };

    public static TheoryData<string> ValidForms => ["imf-fixdate", "rfc850", "asctime"];

    /// <summary>
    /// Far-future dates in shapes RFC 9110 §5.6.7 does not allow: read leniently, each would be a
    /// lifetime of decades; read as the grammar says, each is invalid, so already expired.
    /// </summary>
    public static TheoryData<string> InvalidDates =>
    [
        "Thu, 01 Jan 2099 1:00:00 GMT",       // one-digit hour
        "Thu, 1 Jan 2099 01:00:00 GMT",       // one-digit day
        "Thu, 01-Jan-2099 01:00:00 GMT",      // dashes in an IMF-fixdate
        "Thu,  01 Jan 2099 01:00:00 GMT",     // two spaces
        "Thu, 01 Jan 2099 01:00:00  GMT",
        "Thu, 01 Jan 2099 01:00:00 GMT x",    // trailing garbage
        "Thu, 01 Jan 2099 01:00:00 GMTx",
        "x Thu, 01 Jan 2099 01:00:00 GMT",    // leading garbage
        "Thu, 01 jan 2099 01:00:00 GMT",      // HTTP-date is case-sensitive
        "thu, 01 Jan 2099 01:00:00 GMT",
        "Thu, 01 Jan 2099 01:00:00 gmt",
        "Thu, 01 Jan 2099 01:00:00 +0000",    // numeric zone
        "Thu, 01 Jan 2099 01:00:00 UTC",
        "Thu, 01 Jan 2099 01:00:00",          // no zone
        "Thu, 01 Jan 2099 01:00 GMT",         // no seconds
        "Thu, 01 Jan 2099 25:00:00 GMT",      // hour out of range
        "Thu, 31 Feb 2099 01:00:00 GMT",      // no such day
        "Thu, 01 Jan 99 01:00:00 GMT",        // two-digit year in an IMF-fixdate
        "Thursday, 01 Jan 2099 01:00:00 GMT", // long day name with an IMF date
        "Thursday, 01-Jan-2099 01:00:00 GMT", // rfc850 with a four-digit year
        "Thu Jan 1 01:00:00 2099",            // asctime day not padded to two
        "Thu Jan  1 01:00:00 2099 GMT",       // asctime has no zone
        "2099-01-01T01:00:00Z",               // ISO 8601
        "4102448400",                         // seconds since the epoch
    ];

    private static string Format(string form, DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        string F(string pattern) => u.ToString(pattern, CultureInfo.InvariantCulture);
        return form switch
        {
            "imf-fixdate" => F("ddd, dd MMM yyyy HH:mm:ss 'GMT'"),
            "rfc850" => F("dddd, dd-MMM-yy HH:mm:ss 'GMT'"),
            // asctime pads a one-digit day with a space: "Dec  1 …".
            "asctime" => F("ddd MMM ") + u.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) + F(" HH:mm:ss yyyy"),
            _ => throw new ArgumentOutOfRangeException(nameof(form)),
        };
    }

    [Theory]
    [MemberData(nameof(ValidForms))]
    public async Task Expires_ValidHttpDateForm_GivesLifetime(string form)
    {
        CacheHarness? harness = null;
        await using var h = harness = await CacheHarness.StartAsync(ExpiresIn30s(t => Format(form, t), () => harness!.Time.GetUtcNow()));
        var first = await h.GetAsync("/e");
        Assert.Contains("ttl=30;", first.CacheStatus());
        h.Advance(TimeSpan.FromSeconds(20));
        Assert.True((await h.GetAsync("/e")).IsHit());
        Assert.Equal(1, h.OriginRequests);
    }

    [Theory]
    [MemberData(nameof(InvalidDates))]
    public async Task Expires_NotAnHttpDate_AlreadyExpired(string expires)
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.Expires = expires;
            ctx.Response.Headers.ETag = "\"v1\"";
            return ctx.Response.WriteAsync("x");
        });
        var first = await h.GetAsync("/e");
        // Stored (it has a validator), but with no freshness: the next use goes to the origin.
        Assert.Contains("ttl=0;", first.CacheStatus());
        var second = await h.GetAsync("/e");
        Assert.False(second.IsHit(), $"{expires}: {second.CacheStatus()}");
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Date_Invalid_IgnoredAndResponseTimeUsed()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.Date = "Tue, 01 Dec 2026 1:00:00 GMT garbage";
            ctx.Response.Headers.CacheControl = "max-age=60";
            return ctx.Response.WriteAsync("x");
        });
        var first = await h.GetAsync("/d");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("ttl=60;", first.CacheStatus());
        h.Advance(TimeSpan.FromSeconds(10));
        var hit = await h.GetAsync("/d");
        Assert.True(hit.IsHit(), hit.CacheStatus());
        Assert.Equal(10, hit.AgeSeconds());
    }

    [Fact]
    public async Task LastModified_Invalid_NoHeuristicFreshness()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            // Would give 10% of a year of heuristic freshness if read as a date.
            ctx.Response.Headers.LastModified = "Mon, 01-Dec-2025 10:00:00 GMT";
            return ctx.Response.WriteAsync("x");
        });
        await h.GetAsync("/l");
        Assert.False((await h.GetAsync("/l")).IsHit());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Expires_ImfFixdateFromFormatDate_RoundTrips()
    {
        CacheHarness? harness = null;
        await using var h = harness = await CacheHarness.StartAsync(ExpiresIn30s(HeaderUtilities.FormatDate, () => harness!.Time.GetUtcNow()));
        Assert.Contains("ttl=30;", (await h.GetAsync("/e")).CacheStatus());
    }
}
