using Microsoft.Extensions.Primitives;
using Portway.Http;

namespace Portway.Edge.Caching;

/// <summary>
/// Cache-Control (or CDN-Cache-Control, RFC 9213) directives, parsed without allocating.
/// Durations are delta-seconds (RFC 9111 §1.2.2); -1 means absent. A malformed max-age or
/// s-maxage reads as 0 so the response is treated as stale, as §4.2.1 asks for invalid freshness.
/// A targeted field is read member by member as the Structured Field Dictionary it is
/// (<see cref="ParseStructured"/>).
/// </summary>
internal struct CacheDirectives
{
    public bool Present;
    public bool NoStore;
    public bool NoCache;
    public bool Private;
    public bool Public;
    public bool MustRevalidate;
    public bool ProxyRevalidate;
    public bool MustUnderstand;
    public bool Immutable;
    public bool OnlyIfCached;
    public bool MaxStaleAny;
    public int MaxAge;
    public int SMaxAge;
    public int StaleWhileRevalidate;
    public int StaleIfError;
    public int MaxStale;
    public int MinFresh;

    public static CacheDirectives Parse(StringValues values)
    {
        var d = new CacheDirectives { MaxAge = -1, SMaxAge = -1, StaleWhileRevalidate = -1, StaleIfError = -1, MaxStale = -1, MinFresh = -1 };
        for (var i = 0; i < values.Count; i++)
        {
            var v = values[i];
            if (!string.IsNullOrEmpty(v)) ParseOne(v.AsSpan(), ref d);
        }
        return d;
    }

    /// <summary>
    /// A targeted field (CDN-Cache-Control), already checked to be a valid Structured Field
    /// Dictionary, read with RFC 9213 §2.1's rules: parameters are ignored, <c>?0</c> means the
    /// directive is absent, and a duration must be an sf-integer (a string, decimal or token reads
    /// as malformed, so max-age and s-maxage make the response stale). Member boundaries come from
    /// the Structured Field grammar, so a comma inside a string or inner list never starts a directive.
    /// </summary>
    public static CacheDirectives ParseStructured(StringValues lines)
    {
        var d = new CacheDirectives { MaxAge = -1, SMaxAge = -1, StaleWhileRevalidate = -1, StaleIfError = -1, MaxStale = -1, MinFresh = -1 };
        // One line is the common case, and ToString() returns it without copying.
        var members = new StructuredFieldDictionary.Enumerator(lines.ToString());
        while (members.MoveNext())
        {
            d.Present = true;
            switch (members.Kind)
            {
                case StructuredFieldDictionary.Kind.Boolean:
                    if (members.Value[1] == '1') Apply(members.Key, hasValue: false, default, ref d);
                    break;
                case StructuredFieldDictionary.Kind.Integer:
                    Apply(members.Key, hasValue: true, members.Value, ref d);
                    break;
                default:
                    Apply(members.Key, hasValue: true, ReadOnlySpan<char>.Empty, ref d);
                    break;
            }
        }
        return d;
    }

    private static void ParseOne(ReadOnlySpan<char> s, ref CacheDirectives d)
    {
        var pos = 0;
        while (pos < s.Length)
        {
            // One directive: token [ "=" ( token / quoted-string ) ], then "," (RFC 9111 §5.2).
            while (pos < s.Length && (s[pos] == ',' || s[pos] == ' ' || s[pos] == '\t')) pos++;
            var nameStart = pos;
            while (pos < s.Length && s[pos] != '=' && s[pos] != ',' && s[pos] != ' ' && s[pos] != '\t') pos++;
            var name = s[nameStart..pos];
            while (pos < s.Length && (s[pos] == ' ' || s[pos] == '\t')) pos++;
            ReadOnlySpan<char> value = default;
            var hasValue = false;
            if (pos < s.Length && s[pos] == '=')
            {
                hasValue = true;
                pos++;
                while (pos < s.Length && (s[pos] == ' ' || s[pos] == '\t')) pos++;
                if (pos < s.Length && s[pos] == '"')
                {
                    var start = ++pos;
                    while (pos < s.Length && s[pos] != '"')
                    {
                        if (s[pos] == '\\') pos++;
                        pos++;
                    }
                    value = s[start..Math.Min(pos, s.Length)];
                    if (pos < s.Length) pos++;
                }
                else
                {
                    var start = pos;
                    while (pos < s.Length && s[pos] != ',' && s[pos] != ' ' && s[pos] != '\t') pos++;
                    value = s[start..pos];
                }
            }
            while (pos < s.Length && s[pos] != ',') pos++;
            if (name.Length == 0) continue;
            d.Present = true;
            Apply(name, hasValue, value, ref d);
        }
    }

    private static void Apply(ReadOnlySpan<char> name, bool hasValue, ReadOnlySpan<char> value, ref CacheDirectives d)
    {
        if (Is(name, "max-age")) d.MaxAge = Seconds(hasValue, value, d.MaxAge);
        else if (Is(name, "s-maxage")) d.SMaxAge = Seconds(hasValue, value, d.SMaxAge);
        else if (Is(name, "no-cache")) d.NoCache = true;
        else if (Is(name, "no-store")) d.NoStore = true;
        else if (Is(name, "public")) d.Public = true;
        else if (Is(name, "private")) d.Private = true;
        else if (Is(name, "must-revalidate")) d.MustRevalidate = true;
        else if (Is(name, "proxy-revalidate")) d.ProxyRevalidate = true;
        else if (Is(name, "must-understand")) d.MustUnderstand = true;
        else if (Is(name, "immutable")) d.Immutable = true;
        else if (Is(name, "only-if-cached")) d.OnlyIfCached = true;
        else if (Is(name, "stale-while-revalidate")) d.StaleWhileRevalidate = Lenient(value);
        else if (Is(name, "stale-if-error")) d.StaleIfError = Lenient(value);
        else if (Is(name, "min-fresh")) d.MinFresh = Lenient(value);
        else if (Is(name, "max-stale"))
        {
            // max-stale without a value: any staleness is acceptable (§5.2.1.2).
            if (!hasValue) d.MaxStaleAny = true;
            else d.MaxStale = Lenient(value);
        }
    }

    private static bool Is(ReadOnlySpan<char> name, string directive) => name.Equals(directive, StringComparison.OrdinalIgnoreCase);

    /// <summary>max-age/s-maxage: a repeated or malformed value makes the response stale (§4.2.1).</summary>
    private static int Seconds(bool hasValue, ReadOnlySpan<char> value, int previous)
    {
        if (previous >= 0 || !hasValue) return 0;
        var v = Lenient(value);
        return v < 0 ? 0 : v;
    }

    /// <summary>delta-seconds; values past 2^31 are read as 2^31 (§1.2.2). -1 when not a number.</summary>
    private static int Lenient(ReadOnlySpan<char> value)
    {
        if (value.Length == 0) return -1;
        long n = 0;
        foreach (var c in value)
        {
            if (c is < '0' or > '9') return -1;
            n = n * 10 + (c - '0');
            if (n > int.MaxValue) return int.MaxValue;
        }
        return (int)n;
    }
}
