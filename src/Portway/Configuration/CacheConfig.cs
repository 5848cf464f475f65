
namespace Portway.Configuration;

/// <summary>
/// The shared HTTP cache (RFC 9111), top-level <c>cache:</c>. Routes opt in with
/// <c>routes[].cache</c>; these settings are edge-wide and take effect after a restart.
/// </summary>
internal sealed record CacheConfig
{
    /// <summary>Bytes held in memory, bodies plus headers plus per-object overhead. 256 MiB fits a small VM beside the proxy.</summary>
    public long MemoryBytes { get; init; } = 256L * 1024 * 1024;
    /// <summary>Largest object stored; bigger responses pass through untouched. 10 MiB keeps one object from flushing a small cache.</summary>
    public long MaxObjectBytes { get; init; } = 10L * 1024 * 1024;
    /// <summary>Optional disk tier that survives restarts; null = memory only.</summary>
    public string? DiskPath { get; init; }
    public long DiskBytes { get; init; } = 1024L * 1024 * 1024;
    /// <summary>RFC 9111 §4.2.2 heuristic: this fraction of (Date − Last-Modified). 10% is the RFC's example and what browsers use.</summary>
    public double HeuristicFraction { get; init; } = 0.1;
    /// <summary>Cap on heuristic freshness. One day, like Squid's and Varnish's conservative defaults.</summary>
    public TimeSpan HeuristicMax { get; init; } = TimeSpan.FromDays(1);
    /// <summary>Honour CDN-Cache-Control (RFC 9213) over Cache-Control and Expires.</summary>
    public bool CdnCacheControl { get; init; } = true;
    /// <summary>How long concurrent misses wait for the one request that fills the entry: nginx's proxy_cache_lock_timeout (5s).</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Response headers whose values tag the object for purge by tag (Fastly's Surrogate-Key, Cloudflare's Cache-Tag).</summary>
    public EquatableArray<string> TagHeaders { get; init; } = ["Surrogate-Key", "Cache-Tag"];
}
