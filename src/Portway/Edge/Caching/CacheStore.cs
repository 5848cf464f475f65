using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Caching;

/// <summary>
/// The memory tier: URI key → variants, with an LRU list and a byte budget that is never
/// exceeded. Reads are lock-free (a variants array is replaced, never changed); writes, evictions
/// and LRU moves take one lock. In-flight fills reserve their bytes as they stream, so the budget
/// covers responses still arriving too.
/// </summary>
internal sealed class CacheStore
{
    /// <summary>Variants kept per URI; more (a Vary on a high-cardinality header) evict the oldest. Varnish warns past ~10.</summary>
    public const int MaxVariants = 16;

    private readonly ConcurrentDictionary<string, CacheEntry[]> _map = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private CacheEntry? _newest;
    private CacheEntry? _oldest;
    private long _used;
    private long _reserved;
    private int _count;

    public CacheStore(long budget) => Budget = budget;

    public long Budget { get; }
    /// <summary>Bytes of stored entries plus reservations of fills in progress; never above <see cref="Budget"/>.</summary>
    /// <summary>
    /// Stored plus reserved bytes, read under the lock: two separate reads could straddle an
    /// eviction followed by a reservation and add up to more than the budget ever held (seen as a
    /// 1.6 MB "peak" against 1 MiB in Budget_Tests). Read by metrics scrapes and tests only.
    /// </summary>
    public long Used
    {
        get
        {
            lock (_lock) return _used + _reserved;
        }
    }
    public long StoredBytes => Volatile.Read(ref _used);
    public int Count => Volatile.Read(ref _count);

    /// <summary>Raised (outside the lock) for entries dropped by purge or invalidation, not by eviction.</summary>
    public event Action<CacheEntry>? Removed;

    /// <summary>The variant of <paramref name="key"/> the request selects; <paramref name="uriKnown"/> tells uri-miss from vary-miss.</summary>
    public CacheEntry? Find(string key, IHeaderDictionary request, out bool uriKnown)
    {
        if (!_map.TryGetValue(key, out var variants))
        {
            uriKnown = false;
            return null;
        }
        uriKnown = true;
        // Newest first: after a Vary change the latest response wins.
        for (var i = variants.Length - 1; i >= 0; i--)
        {
            var e = variants[i];
            if (VaryKey.Matches(e, request))
            {
                Touch(e);
                return e;
            }
        }
        return null;
    }

    public CacheEntry[]? Variants(string key) => _map.TryGetValue(key, out var v) ? v : null;

    /// <summary>Reserves bytes for a fill in progress, evicting least-recently-used entries; false when they cannot fit.</summary>
    public bool TryReserve(long bytes)
    {
        lock (_lock)
        {
            if (!MakeRoom(bytes)) return false;
            _reserved += bytes;
            return true;
        }
    }

    public void Release(long bytes)
    {
        lock (_lock) _reserved -= bytes;
    }

    /// <summary>
    /// Stores an entry, converting <paramref name="reserved"/> bytes of reservation. A variant with
    /// the same secondary key is replaced. False (and nothing stored) when it cannot fit.
    /// </summary>
    public bool Commit(CacheEntry entry, long reserved)
    {
        lock (_lock)
        {
            _reserved -= reserved;
            _map.TryGetValue(entry.Key, out var variants);
            var replace = -1;
            if (variants is not null)
            {
                for (var i = 0; i < variants.Length; i++)
                {
                    if (SameVariant(variants[i], entry)) replace = i;
                }
            }
            var freed = replace >= 0 ? variants![replace].Size : 0;
            if (!MakeRoom(entry.Size - freed, protect: replace >= 0 ? variants![replace] : null)) return false;
            // MakeRoom may have evicted other variants of this key; read them again.
            _map.TryGetValue(entry.Key, out variants);
            replace = -1;
            if (variants is not null)
            {
                for (var i = 0; i < variants.Length; i++)
                {
                    if (SameVariant(variants[i], entry)) replace = i;
                }
            }
            CacheEntry[] next;
            if (variants is null) next = [entry];
            else if (replace >= 0)
            {
                Unlink(variants[replace]);
                next = (CacheEntry[])variants.Clone();
                next[replace] = entry;
            }
            else if (variants.Length >= MaxVariants)
            {
                Unlink(variants[0]);
                next = new CacheEntry[variants.Length];
                Array.Copy(variants, 1, next, 0, variants.Length - 1);
                next[^1] = entry;
            }
            else
            {
                next = new CacheEntry[variants.Length + 1];
                variants.CopyTo(next, 0);
                next[^1] = entry;
            }
            _map[entry.Key] = next;
            Link(entry);
            return true;
        }
    }

    /// <summary>Replaces <paramref name="old"/> with <paramref name="updated"/> (same body) after a 304, if it is still stored.</summary>
    public void Replace(CacheEntry old, CacheEntry updated)
    {
        lock (_lock)
        {
            if (!old.Linked || !_map.TryGetValue(old.Key, out var variants)) return;
            var i = Array.IndexOf(variants, old);
            if (i < 0) return;
            Unlink(old);
            if (!MakeRoom(updated.Size))
            {
                RemoveFromMap(old);
                return;
            }
            // MakeRoom may have changed the array.
            _map.TryGetValue(old.Key, out variants);
            var next = variants is null ? [] : (CacheEntry[])variants.Clone();
            i = variants is null ? -1 : Array.IndexOf(variants, old);
            if (i >= 0) next[i] = updated;
            else next = [.. next, updated];
            _map[old.Key] = next;
            Link(updated);
        }
    }

    /// <summary>Removes every variant of a URI (invalidation §4.4, purge by URL). Returns how many.</summary>
    public int Remove(string key)
    {
        CacheEntry[]? removed;
        lock (_lock)
        {
            if (!_map.TryRemove(key, out removed)) return 0;
            foreach (var e in removed) Unlink(e);
        }
        foreach (var e in removed) Removed?.Invoke(e);
        return removed.Length;
    }

    /// <summary>Removes entries whose key starts with <paramref name="prefix"/> or that carry <paramref name="tag"/>. A scan: purges are rare, and no per-object index is kept for them.</summary>
    public int RemoveWhere(string? prefix, string? tag)
    {
        var hits = new List<CacheEntry>();
        foreach (var (key, variants) in _map)
        {
            foreach (var e in variants)
            {
                if ((prefix is not null && key.StartsWith(prefix, StringComparison.Ordinal)) || (tag is not null && HasTag(e, tag))) hits.Add(e);
            }
        }
        var count = 0;
        lock (_lock)
        {
            foreach (var e in hits)
            {
                if (!e.Linked) continue;
                Unlink(e);
                RemoveFromMap(e);
                count++;
            }
        }
        foreach (var e in hits) Removed?.Invoke(e);
        return count;
    }

    private static bool HasTag(CacheEntry e, string tag)
    {
        if (e.Tags is null) return false;
        foreach (var t in e.Tags)
        {
            if (t.Equals(tag, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static bool SameVariant(CacheEntry a, CacheEntry b)
    {
        if (a.VaryNames is null || b.VaryNames is null) return a.VaryNames is null && b.VaryNames is null;
        if (a.VaryNames.Length != b.VaryNames.Length) return false;
        for (var i = 0; i < a.VaryNames.Length; i++)
        {
            if (!a.VaryNames[i].Equals(b.VaryNames[i], StringComparison.OrdinalIgnoreCase)) return false;
            if (!string.Equals(a.VaryValues![i], b.VaryValues![i], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    private void Touch(CacheEntry e)
    {
        // Approximate LRU: a hot entry moves to the head at most once a second, so hits on hot
        // objects rarely take the lock (Caffeine and memcached's "bump once per window" trick).
        var now = Environment.TickCount64;
        if (now - Volatile.Read(ref e.Touched) < 1000) return;
        lock (_lock)
        {
            if (!e.Linked) return;
            e.Touched = now;
            if (_newest == e) return;
            Detach(e);
            AttachNewest(e);
        }
    }

    /// <summary>Evicts from the LRU tail until <paramref name="bytes"/> more fit. Caller holds the lock.</summary>
    private bool MakeRoom(long bytes, CacheEntry? protect = null)
    {
        if (bytes > Budget) return false;
        var victim = _oldest;
        while (_used + _reserved + bytes > Budget && victim is not null)
        {
            var next = victim.Newer;
            if (victim != protect)
            {
                Unlink(victim);
                RemoveFromMap(victim);
            }
            victim = next;
        }
        return _used + _reserved + bytes <= Budget;
    }

    private void RemoveFromMap(CacheEntry e)
    {
        if (!_map.TryGetValue(e.Key, out var variants)) return;
        var i = Array.IndexOf(variants, e);
        if (i < 0) return;
        if (variants.Length == 1)
        {
            _map.TryRemove(e.Key, out _);
            return;
        }
        var next = new CacheEntry[variants.Length - 1];
        Array.Copy(variants, 0, next, 0, i);
        Array.Copy(variants, i + 1, next, i, variants.Length - i - 1);
        _map[e.Key] = next;
    }

    private void Link(CacheEntry e)
    {
        e.Linked = true;
        e.Touched = Environment.TickCount64;
        AttachNewest(e);
        _used += e.Size;
        _count++;
    }

    private void Unlink(CacheEntry e)
    {
        if (!e.Linked) return;
        e.Linked = false;
        Detach(e);
        _used -= e.Size;
        _count--;
    }

    private void AttachNewest(CacheEntry e)
    {
        e.Older = _newest;
        e.Newer = null;
        if (_newest is not null) _newest.Newer = e;
        _newest = e;
        _oldest ??= e;
    }

    private void Detach(CacheEntry e)
    {
        if (e.Newer is not null) e.Newer.Older = e.Older;
        else _newest = e.Older;
        if (e.Older is not null) e.Older.Newer = e.Newer;
        else _oldest = e.Newer;
        e.Newer = e.Older = null;
    }
}
