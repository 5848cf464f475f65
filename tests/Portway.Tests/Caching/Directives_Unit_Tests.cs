using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Net.Http.Headers;
using Portway.Configuration;
using Portway.Edge.Caching;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>Unit level: Cache-Control parsing (RFC 9111 §5.2) and the §4.2.3 age arithmetic on a fake clock.</summary>
public sealed class Directives_Unit_Tests
{
    [Fact]
    public void Parse_MixedDirectives_AllRead()
    {
        var d = CacheDirectives.Parse(new StringValues(["Public, MAX-AGE=60 , s-maxage=\"120\"", "no-cache=\"Set-Cookie, X-A\", stale-while-revalidate=30, max-stale, x-ext=1"]));
        Assert.True(d.Public);
        Assert.Equal(60, d.MaxAge);
        Assert.Equal(120, d.SMaxAge);
        Assert.True(d.NoCache);
        Assert.Equal(30, d.StaleWhileRevalidate);
        Assert.True(d.MaxStaleAny);
        Assert.False(d.Private);
    }

    [Theory]
    [InlineData("max-age=abc", 0)]
    [InlineData("max-age=10, max-age=20", 0)]
    [InlineData("max-age", 0)]
    [InlineData("max-age=99999999999", int.MaxValue)]
    public void Parse_InvalidOrDuplicateMaxAge_TreatedAsStale(string header, int expected) =>
        Assert.Equal(expected, CacheDirectives.Parse(header).MaxAge);

    [Fact]
    public void Compute_AgeArithmetic_FollowsSection423()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var requestTime = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(2)); // response_delay = 2 s
        var responseTime = clock.GetUtcNow();
        var headers = new HeaderDictionary
        {
            [HeaderNames.Date] = HeaderUtilities.FormatDate(responseTime - TimeSpan.FromSeconds(5)), // apparent_age = 5
            [HeaderNames.Age] = "1", // corrected_age_value = 1 + 2 = 3
            [HeaderNames.CacheControl] = "max-age=100",
        };
        var cc = CacheDirectives.Parse(headers[HeaderNames.CacheControl]);
        var f = ResponsePolicy.Compute(headers, 200, cc, false, false, requestTime, responseTime, new CacheConfig());
        Assert.Equal(TimeSpan.FromSeconds(5), f.InitialAge);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(15), f.Age(clock.GetUtcNow()));
        Assert.Equal(TimeSpan.FromSeconds(100), f.Lifetime);
    }
}
