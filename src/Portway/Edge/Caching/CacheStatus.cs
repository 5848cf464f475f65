using System.Globalization;

namespace Portway.Edge.Caching;

/// <summary>
/// Values of the Cache-Status response header (RFC 9211), this cache's member named "Portway".
/// Formatted only on misses; hits reuse a per-entry text (<see cref="CacheEntry.TextFor"/>).
/// </summary>
internal static class CacheStatus
{
    public const string HeaderName = "Cache-Status";
    public const string Bypass = "Portway; fwd=bypass";
    public const string OnlyIfCachedMiss = "Portway; fwd=miss; detail=only-if-cached";

    public static string Hit(long ttlSeconds, string key) =>
        $"Portway; hit; ttl={ttlSeconds.ToString(CultureInfo.InvariantCulture)}; key={Quote(key)}";

    /// <summary>fwd is uri-miss, vary-miss, miss, request (client demanded it) or stale (§2.2).</summary>
    public static string Forward(string fwd, int status, bool stored, long? ttlSeconds, string key, string? detail = null) =>
        $"Portway; fwd={fwd}; fwd-status={status.ToString(CultureInfo.InvariantCulture)}{(stored ? "; stored" : "")}"
        + (ttlSeconds is { } ttl ? $"; ttl={ttl.ToString(CultureInfo.InvariantCulture)}" : "")
        + $"; key={Quote(key)}" + (detail is null ? "" : $"; detail={detail}");

    /// <summary>
    /// RFC 9211 §2: the header lists caches in the order they handled the response, origin-side
    /// first, so a cache appends its own member after any an upstream cache put there.
    /// </summary>
    public static void Set(Microsoft.AspNetCore.Http.IHeaderDictionary headers, string value)
    {
        var upstream = headers[HeaderName];
        headers[HeaderName] = upstream.Count == 0 ? value : upstream.ToString() + ", " + value;
    }

    /// <summary>sf-string (RFC 8941 §3.3.3): quotes and backslashes escaped.</summary>
    public static string Quote(string s)
    {
        if (s.AsSpan().IndexOfAny('"', '\\') < 0) return "\"" + s + "\"";
        return "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
