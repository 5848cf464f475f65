namespace Portway.Configuration;

/// <summary>Reads the top-level <c>cache:</c> section and a route's <c>cache:</c> switch.</summary>
internal static class CacheSection
{
    public static CacheConfig Read(YamlSection top)
    {
        var c = top.Child("cache", "memory", "max_object_size", "disk", "heuristic", "cdn_cache_control", "lock_timeout", "tag_headers");
        var d = new CacheConfig();
        if (c is null) return d;
        var result = d with
        {
            MemoryBytes = Positive(c, "memory") ?? d.MemoryBytes,
            MaxObjectBytes = Positive(c, "max_object_size") ?? d.MaxObjectBytes,
            CdnCacheControl = c.Bool("cdn_cache_control") ?? d.CdnCacheControl,
            LockTimeout = c.Duration("lock_timeout") ?? d.LockTimeout,
        };
        if (result.MaxObjectBytes > result.MemoryBytes)
            c.Error("max_object_size", $"is larger than cache.memory ({result.MemoryBytes} bytes); an object must fit the memory budget");

        if (c.Has("tag_headers"))
        {
            var tags = System.Collections.Immutable.ImmutableArray.CreateBuilder<string>();
            foreach (var (name, node) in c.StringList("tag_headers"))
            {
                if (name.Length == 0 || name.AsSpan().IndexOfAny(" :\t") >= 0)
                    c.Context.Error(node, c.Join("tag_headers"), $"'{name}' is not a header name; write it like Surrogate-Key");
                else tags.Add(name);
            }
            result = result with { TagHeaders = tags.ToImmutable() };
        }

        var h = c.Child("heuristic", "fraction", "max");
        if (h is not null)
            result = result with
            {
                HeuristicFraction = h.Double("fraction", 0, 1) ?? d.HeuristicFraction,
                HeuristicMax = h.Duration("max") ?? d.HeuristicMax,
            };

        var disk = c.Child("disk", "path", "size");
        if (disk is not null)
        {
            var path = disk.String("path", required: true);
            if (path is not null && path.Trim().Length == 0) disk.Error("path", "must name a directory, e.g. /var/cache/portway");
            result = result with { DiskPath = string.IsNullOrWhiteSpace(path) ? null : path, DiskBytes = Positive(disk, "size") ?? d.DiskBytes };
        }
        return result;
    }

    /// <summary>
    /// <c>routes[].cache</c>: <c>true</c>/<c>false</c>, or a mapping <c>{ enabled: true }</c>.
    /// Returns whether the route caches (false when absent).
    /// </summary>
    public static bool ReadRoute(YamlSection route)
    {
        var node = route.Raw("cache");
        if (node is null) return false;
        if (node is YamlDotNet.RepresentationModel.YamlMappingNode)
        {
            var block = route.Child("cache", "enabled");
            return block?.Bool("enabled") ?? true;
        }
        return route.Bool("cache") ?? false;
    }

    private static long? Positive(YamlSection s, string key)
    {
        var v = s.Size(key);
        if (v is <= 0)
        {
            s.Error(key, "must be greater than zero");
            return null;
        }
        return v;
    }
}
