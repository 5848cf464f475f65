using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;

namespace Portway.Edge.Caching;

/// <summary>The edge's one shared cache: settings, the memory tier, the optional disk tier, collapsing and metrics.</summary>
internal sealed partial class HttpCache : IDisposable
{
    public HttpCache(CacheConfig config, TimeProvider time, ILogger<HttpCache> logger)
    {
        Config = config;
        Time = time;
        Logger = logger;
        Store = new CacheStore(config.MemoryBytes);
        Metrics = new CacheMetrics(Store);
        Disk = config.DiskPath is null ? null : new DiskTier(config.DiskPath, config.DiskBytes, logger);
    }

    public CacheConfig Config { get; }
    public TimeProvider Time { get; }
    public ILogger Logger { get; }
    public CacheStore Store { get; }
    public DiskTier? Disk { get; }
    public CacheMetrics Metrics { get; }
    public RequestCollapser Collapser { get; } = new();

    /// <summary>Stores a complete entry in memory and, when configured, on disk.</summary>
    public bool Commit(CacheEntry entry, long reserved)
    {
        if (!Store.Commit(entry, reserved)) return false;
        Metrics.OnStored(entry.BodyLength);
        Disk?.Write(entry);
        return true;
    }

    /// <summary>Removes a URI from both tiers.</summary>
    public int Invalidate(string key)
    {
        var n = Store.Remove(key);
        var d = Disk?.RemoveKey(key) ?? 0;
        return Math.Max(n, d);
    }

    public int Purge(string? prefix, string? tag)
    {
        var n = Store.RemoveWhere(prefix, tag);
        var d = Disk?.RemoveWhere(prefix, tag) ?? 0;
        return Math.Max(n, d);
    }

    public void Dispose()
    {
        Metrics.Dispose();
        Disk?.Dispose();
    }

    [LoggerMessage(EventId = EventIds.CacheRevalidationFailed, Level = LogLevel.Warning, Message = "Cache: background revalidation of {Key} failed: {Error}")]
    public static partial void LogRevalidationFailed(ILogger logger, string key, string error);

    [LoggerMessage(EventId = EventIds.CacheDiskError, Level = LogLevel.Warning, Message = "Cache: disk tier at {Path}: {Error}")]
    public static partial void LogDiskError(ILogger logger, string path, string error);

    [LoggerMessage(EventId = EventIds.CacheDiskLoaded, Level = LogLevel.Information, Message = "Cache: disk tier at {Path} holds {Count} objects, {Bytes} bytes")]
    public static partial void LogDiskLoaded(ILogger logger, string path, int count, long bytes);
}
