using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Portway.Edge.Caching;

/// <summary>
/// Secondary cache keys (RFC 9111 §4.1): the request header values a stored response varies on,
/// normalised so that equivalent requests match — several field lines joined with ", ",
/// whitespace around commas and at the ends removed, runs of spaces collapsed, and values of
/// fields whose tokens are case-insensitive (Accept-Encoding, content-codings per RFC 9110 §8.4.1)
/// lower-cased. An absent header matches only an absent header.
/// </summary>
internal static class VaryKey
{
    /// <summary>Header names from the response's Vary; null for none; ["*"] for Vary: *.</summary>
    public static string[]? Names(StringValues vary)
    {
        if (vary.Count == 0) return null;
        List<string>? names = null;
        foreach (var line in vary)
        {
            if (line is null) continue;
            foreach (var part in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (part == "*") return ["*"];
                names ??= [];
                var seen = false;
                foreach (var n in names) seen |= n.Equals(part, StringComparison.OrdinalIgnoreCase);
                if (!seen) names.Add(part);
            }
        }
        return names?.ToArray();
    }

    public static bool IsStar(string[]? names) => names is ["*"];

    public static string?[] Values(string[] names, IHeaderDictionary request)
    {
        var values = new string?[names.Length];
        for (var i = 0; i < names.Length; i++) values[i] = Normalise(names[i], request[names[i]]);
        return values;
    }

    /// <summary>True when the request selects this entry (§4.1). Vary: * never matches.</summary>
    public static bool Matches(CacheEntry entry, IHeaderDictionary request)
    {
        var names = entry.VaryNames;
        if (names is null) return true;
        if (IsStar(names)) return false;
        var stored = entry.VaryValues!;
        for (var i = 0; i < names.Length; i++)
        {
            if (!string.Equals(Normalise(names[i], request[names[i]]), stored[i], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    public static string? Normalise(string name, StringValues values)
    {
        if (values.Count == 0) return null;
        var lower = name.Equals("Accept-Encoding", StringComparison.OrdinalIgnoreCase);
        // Fast path: one clean value with nothing to normalise.
        if (values.Count == 1 && IsClean(values[0], lower)) return values[0] ?? "";
        var sb = new StringBuilder();
        foreach (var line in values)
        {
            if (line is null) continue;
            foreach (var part in line.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Length == 0) continue;
                if (sb.Length > 0) sb.Append(',');
                var space = false;
                foreach (var c in part)
                {
                    if (c is ' ' or '\t')
                    {
                        space = true;
                        continue;
                    }
                    if (space) sb.Append(' ');
                    space = false;
                    sb.Append(lower ? char.ToLowerInvariant(c) : c);
                }
            }
        }
        return sb.ToString();
    }

    private static bool IsClean(string? v, bool lower)
    {
        if (v is null) return true;
        for (var i = 0; i < v.Length; i++)
        {
            var c = v[i];
            if (c is '\t' || (lower && c is >= 'A' and <= 'Z')) return false;
            if (c == ' ' && (i == 0 || i == v.Length - 1 || v[i - 1] is ' ' or ',' || v[i + 1] is ',' or ' ')) return false;
        }
        return true;
    }
}
