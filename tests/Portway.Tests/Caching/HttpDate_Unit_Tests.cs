using Portway.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>Unit level: the HTTP-date grammar of RFC 9110 §5.6.7, form by form.</summary>
public sealed class HttpDate_Unit_Tests
{
    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z")]   // IMF-fixdate
    [InlineData("  Sun, 06 Nov 1994 08:49:37 GMT\t", "1994-11-06T08:49:37Z")] // OWS around a field value is not part of it
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z")]   // rfc850
    [InlineData("Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z")]         // asctime, day padded with a space
    [InlineData("Sun Nov 16 08:49:37 1994", "1994-11-16T08:49:37Z")]
    [InlineData("Wed, 31 Dec 2025 23:59:60 GMT", "2025-12-31T23:59:59Z")]   // leap second, read as :59
    [InlineData("Thu, 29 Feb 2024 00:00:00 GMT", "2024-02-29T00:00:00Z")]
    [InlineData("Mon, 01 Jan 0001 00:00:00 GMT", "0001-01-01T00:00:00Z")]
    public void TryParse_Valid_ReadsInstant(string text, string expected)
    {
        Assert.True(HttpDate.TryParse(text, out var value), text);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Fact]
    public void TryParse_Rfc850TwoDigitYear_NeverMoreThan50YearsAhead()
    {
        var now = DateTime.UtcNow.Year;
        var ahead = (now + 49) % 100;
        var behind = (now + 51) % 100;
        Assert.True(HttpDate.TryParse($"Monday, 01-Jan-{ahead:00} 00:00:00 GMT", out var soon));
        Assert.Equal(now + 49, soon.Year);
        Assert.True(HttpDate.TryParse($"Monday, 01-Jan-{behind:00} 00:00:00 GMT", out var past));
        Assert.Equal(now + 51 - 100, past.Year);
    }

    [Theory]
    [MemberData(nameof(Expires_5_3_Tests.InvalidDates), MemberType = typeof(Expires_5_3_Tests))]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 00 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 0000 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:60:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:61 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:3 GMT ")]
    [InlineData("Sun, 06 Nov 1994 08.49.37 GMT")]
    [InlineData("Sun, ٠٦ Nov 1994 08:49:37 GMT")]   // Arabic-Indic digits are not DIGIT
    [InlineData("Son, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT\r")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 UTC")]
    [InlineData("Sunday,06-Nov-94 08:49:37 GMT")]
    [InlineData("sunday, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov 6  08:49:37 1994")]
    [InlineData("Sun Nov  6 08:49:37 94  ")]
    [InlineData("Sun, Nov  6 08:49:37 1994")]
    public void TryParse_Invalid_Rejected(string text) => Assert.False(HttpDate.TryParse(text, out _), text);

    [Fact]
    public void TryParse_RandomInput_NeverThrows()
    {
        // Mutations of valid dates of each length (29, 24, 30–33 characters), fixed seed.
        var random = new Random(9110);
        string[] seeds = ["Sun, 06 Nov 1994 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Wednesday, 06-Nov-94 08:49:37 GMT"];
        const string alphabet = "0123456789 ,:-SunNovGMTday\t";
        for (var i = 0; i < 20_000; i++)
        {
            var text = seeds[random.Next(seeds.Length)].ToCharArray();
            for (var k = random.Next(1, 4); k > 0; k--) text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            _ = HttpDate.TryParse(text, out _);
        }
    }
}
