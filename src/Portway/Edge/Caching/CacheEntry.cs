using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Portway.Edge.Caching;

/// <summary>
/// One stored response (one variant of one URI). Immutable once stored: a 304 that updates the
/// headers (RFC 9111 §4.3.4) makes a new entry sharing the body, so readers never see a torn entry.
/// </summary>
internal sealed class CacheEntry
{
    /// <summary>
    /// Accounted bytes per object beyond its body and header characters: this object, the header
    /// array, string and dictionary overheads. Measured by Budget_Tests.Entry_ObjectOverhead_UnderOneKilobyte (with a
    /// typical header set, 642 B measured); rounded so the budget errs on the safe side.
    /// </summary>
    public const int Overhead = 640;

    private HitText? _hitText;

    public CacheEntry(string key, int status, KeyValuePair<string, StringValues>[] headers, byte[][] body, long bodyLength, Freshness freshness, string[]? varyNames, string?[]? varyValues, string[]? tags)
    {
        Key = key;
        Status = status;
        Headers = headers;
        Body = body;
        BodyLength = bodyLength;
        Freshness = freshness;
        VaryNames = varyNames;
        VaryValues = varyValues;
        Tags = tags;
        long chars = key.Length;
        foreach (var h in headers)
        {
            chars += h.Key.Length;
            foreach (var v in h.Value) chars += v?.Length ?? 0;
        }
        if (varyValues is not null) foreach (var v in varyValues) chars += v?.Length ?? 0;
        if (tags is not null) foreach (var t in tags) chars += t.Length;
        Size = bodyLength + chars * sizeof(char) + Overhead + 24L * headers.Length;
        foreach (var h in headers)
        {
            if (h.Key.Equals("ETag", StringComparison.OrdinalIgnoreCase)) ETag = h.Value.ToString();
            else if (h.Key.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase)) LastModified = h.Value.ToString();
        }
    }

    public string Key { get; }
    public int Status { get; }
    public KeyValuePair<string, StringValues>[] Headers { get; }
    public byte[][] Body { get; }
    public long BodyLength { get; }
    public Freshness Freshness { get; }
    /// <summary>The request header names the response varies on, and the request's normalised values when stored.</summary>
    public string[]? VaryNames { get; }
    public string?[]? VaryValues { get; }
    public string[]? Tags { get; }
    public string? ETag { get; }
    public string? LastModified { get; }
    /// <summary>Bytes charged to the budget.</summary>
    public long Size { get; }

    // LRU links, guarded by the store's lock.
    internal CacheEntry? Newer;
    internal CacheEntry? Older;
    internal bool Linked;
    /// <summary>Environment.TickCount64 of the last move to the LRU head; hot entries are moved at most once a second.</summary>
    internal long Touched;

    public bool HasValidators => ETag is not null || LastModified is not null;

    public CacheEntry WithHeaders(KeyValuePair<string, StringValues>[] headers, Freshness freshness) =>
        new(Key, Status, headers, Body, BodyLength, freshness, VaryNames, VaryValues, Tags);

    public StringValues Header(string name)
    {
        foreach (var h in Headers)
        {
            if (h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)) return h.Value;
        }
        return StringValues.Empty;
    }

    /// <summary>
    /// Age and Cache-Status values for a hit, formatted once per second per entry so the hit path
    /// builds no strings (the texts only change when the whole-second age does).
    /// </summary>
    public HitText TextFor(long ageSeconds)
    {
        // Never an Age above 2^31 (RFC 9111 §1.2.2), however long the entry has been stale.
        if (ageSeconds > ResponsePolicy.MaxDeltaSeconds) ageSeconds = ResponsePolicy.MaxDeltaSeconds;
        var t = _hitText;
        if (t is not null && t.AgeSeconds == ageSeconds) return t;
        var ttl = (long)Freshness.Lifetime.TotalSeconds - ageSeconds;
        t = new HitText(ageSeconds, ageSeconds.ToString(CultureInfo.InvariantCulture), CacheStatus.Hit(ttl, Key));
        _hitText = t;
        return t;
    }

    internal sealed record HitText(long AgeSeconds, string Age, string CacheStatus);
}
