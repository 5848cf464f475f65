using Microsoft.Extensions.Primitives;

namespace Portway.Http;

/// <summary>
/// HTTP-date as RFC 9110 §5.6.7 defines it, and nothing looser: IMF-fixdate
/// (<c>Sun, 06 Nov 1994 08:49:37 GMT</c>) plus the two obsolete forms a recipient must still
/// accept, rfc850 (<c>Sunday, 06-Nov-94 08:49:37 GMT</c>) and asctime (<c>Sun Nov  6 08:49:37 1994</c>).
/// Case-sensitive, single spaces, two-digit fields, no trailing text. ASP.NET Core's
/// HeaderUtilities.TryParseDate also takes one-digit hours, dashes in IMF dates, extra spaces and
/// numeric zones, which made an invalid Expires (already expired, RFC 9111 §5.3) a future date.
/// The day name is checked against the list but not against the date (§5.6.7 does not ask to).
/// </summary>
internal static class HttpDate
{
    private const string ShortDays = "MonTueWedThuFriSatSun";
    private const string Months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    private static readonly string[] LongDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    /// <summary>One field line holding one HTTP-date; several lines (a list) are not a date.</summary>
    public static DateTimeOffset? Parse(StringValues value) =>
        value.Count == 1 && TryParse(value[0], out var date) ? date : null;

    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        value = default;
        // Whitespace around a field value is not part of it (§5.5).
        var s = text.Trim(" \t");
        if (s.Length == 29) return ImfFixdate(s, out value);
        if (s.Length == 24) return Asctime(s, out value);
        return Rfc850(s, out value);
    }

    // IMF-fixdate = day-name "," SP day SP month SP year SP time-of-day SP "GMT"
    private static bool ImfFixdate(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        return ShortDay(s[..3]) && s[3] == ',' && s[4] == ' '
            && TwoDigits(s[5..7], out var day) && s[7] == ' '
            && Month(s[8..11], out var month) && s[11] == ' '
            && Digits(s[12..16], out var year) && s[16] == ' '
            && TimeOfDay(s[17..25], out var hour, out var minute, out var second)
            && s[25..].SequenceEqual(" GMT")
            && Build(year, month, day, hour, minute, second, out value);
    }

    // asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year
    private static bool Asctime(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (!ShortDay(s[..3]) || s[3] != ' ' || !Month(s[4..7], out var month) || s[7] != ' ') return false;
        int day;
        if (s[8] == ' ')
        {
            if (!IsDigit(s[9])) return false;
            day = s[9] - '0';
        }
        else if (!TwoDigits(s[8..10], out day)) return false;
        return s[10] == ' ' && TimeOfDay(s[11..19], out var hour, out var minute, out var second)
            && s[19] == ' ' && Digits(s[20..24], out var year)
            && Build(year, month, day, hour, minute, second, out value);
    }

    // rfc850-date = day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP "GMT"
    private static bool Rfc850(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        var comma = s.IndexOf(',');
        if (comma < 0 || !LongDay(s[..comma])) return false;
        var r = s[(comma + 1)..];
        if (r.Length != 23 || r[0] != ' ') return false;
        r = r[1..];
        if (!TwoDigits(r[..2], out var day) || r[2] != '-' || !Month(r[3..6], out var month) || r[6] != '-'
            || !TwoDigits(r[7..9], out var yy) || r[9] != ' ' || !TimeOfDay(r[10..18], out var hour, out var minute, out var second)
            || !r[18..].SequenceEqual(" GMT"))
            return false;
        // §5.6.7: a two-digit year more than 50 years in the future is the most recent past year
        // with those digits.
        var now = DateTime.UtcNow.Year;
        var year = now - now % 100 + yy;
        if (year > now + 50) year -= 100;
        return Build(year, month, day, hour, minute, second, out value);
    }

    // time-of-day = hour ":" minute ":" second, each 2DIGIT; second may be 60 (a leap second, §5.6.7 via RFC 5322).
    private static bool TimeOfDay(ReadOnlySpan<char> s, out int hour, out int minute, out int second)
    {
        minute = second = 0;
        return TwoDigits(s[..2], out hour) && s[2] == ':' && TwoDigits(s[3..5], out minute) && s[5] == ':' && TwoDigits(s[6..8], out second)
            && hour <= 23 && minute <= 59 && second <= 60;
    }

    private static bool Build(int year, int month, int day, int hour, int minute, int second, out DateTimeOffset value)
    {
        value = default;
        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        // A leap second is read as the last second of its minute.
        value = new DateTimeOffset(year, month, day, hour, minute, Math.Min(second, 59), TimeSpan.Zero);
        return true;
    }

    private static bool ShortDay(ReadOnlySpan<char> s)
    {
        for (var i = 0; i < ShortDays.Length; i += 3)
        {
            if (s.SequenceEqual(ShortDays.AsSpan(i, 3))) return true;
        }
        return false;
    }

    private static bool LongDay(ReadOnlySpan<char> s)
    {
        foreach (var day in LongDays)
        {
            if (s.SequenceEqual(day)) return true;
        }
        return false;
    }

    private static bool Month(ReadOnlySpan<char> s, out int month)
    {
        for (var i = 0; i < Months.Length; i += 3)
        {
            if (s.SequenceEqual(Months.AsSpan(i, 3)))
            {
                month = i / 3 + 1;
                return true;
            }
        }
        month = 0;
        return false;
    }

    private static bool TwoDigits(ReadOnlySpan<char> s, out int value) => Digits(s, out value);

    private static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!IsDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return s.Length > 0;
    }

    // ASCII DIGIT only (RFC 5234): char.IsDigit would take other scripts' digits.
    private static bool IsDigit(char c) => c is >= '0' and <= '9';
}
