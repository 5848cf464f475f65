using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Portway.Edge.Caching;

internal enum RangeResult { Ignore, Satisfiable, Unsatisfiable }

/// <summary>
/// One byte range (RFC 9110 §14.1.2). Several ranges, other units or a malformed header are
/// ignored and the whole representation is sent, which §14.2 allows.
/// </summary>
internal static class RangeParser
{
    public static RangeResult Parse(StringValues header, long length, out long offset, out long count)
    {
        offset = 0;
        count = length;
        if (header.Count != 1) return RangeResult.Ignore;
        var s = header[0].AsSpan().Trim();
        if (!s.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return RangeResult.Ignore;
        s = s[6..].Trim();
        if (s.IndexOf(',') >= 0) return RangeResult.Ignore;
        var dash = s.IndexOf('-');
        if (dash < 0) return RangeResult.Ignore;
        var first = s[..dash].Trim();
        var last = s[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            // Suffix range: the last N bytes.
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return RangeResult.Ignore;
            if (suffix == 0 || length == 0) return RangeResult.Unsatisfiable;
            count = Math.Min(suffix, length);
            offset = length - count;
            return RangeResult.Satisfiable;
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start)) return RangeResult.Ignore;
        var end = length - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start) return RangeResult.Ignore;
            end = Math.Min(end, length - 1);
        }
        if (start >= length) return RangeResult.Unsatisfiable;
        offset = start;
        count = end - start + 1;
        return RangeResult.Satisfiable;
    }
}
