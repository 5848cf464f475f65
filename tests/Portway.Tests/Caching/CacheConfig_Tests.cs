using Portway.Configuration;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>The cache: section and routes[].cache, with located errors.</summary>
public sealed class CacheConfig_Tests
{
    [Fact]
    public void Parse_FullSection_AllValuesRead()
    {
        var config = ConfigLoader.Parse("""
            cache:
              memory: 64m
              max_object_size: 2m
              disk: { path: /tmp/portway-cache, size: 5g }
              heuristic: { fraction: 0.2, max: 2h }
              cdn_cache_control: false
              lock_timeout: 2s
              tag_headers: [X-Tags]
            routes:
              - { id: a, cluster: c, cache: true }
              - { id: b, cluster: c, cache: { enabled: false } }
              - { id: d, cluster: c, cache: {} }
              - { id: e, cluster: c }
            clusters:
              - { id: c, destinations: [http://127.0.0.1:1] }
            """, "t.yaml");
        var c = config.Cache;
        Assert.Equal(64L << 20, c.MemoryBytes);
        Assert.Equal(2L << 20, c.MaxObjectBytes);
        Assert.Equal("/tmp/portway-cache", c.DiskPath);
        Assert.Equal(5L << 30, c.DiskBytes);
        Assert.Equal(0.2, c.HeuristicFraction);
        Assert.Equal(TimeSpan.FromHours(2), c.HeuristicMax);
        Assert.False(c.CdnCacheControl);
        Assert.Equal(TimeSpan.FromSeconds(2), c.LockTimeout);
        Assert.Equal(["X-Tags"], c.TagHeaders.ToArray());
        Assert.Equal([true, false, true, false], config.Routes.Select(r => r.Cache));
    }

    [Fact]
    public void Parse_Errors_LocatedWithWhatIsAllowed()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            cache:
              memory: 1m
              max_object_size: 2m
              heuristic: { fraction: 3 }
              lock_timout: 5s
              disk: { size: 1g }
            routes:
              - { id: a, cluster: c, cache: maybe }
            clusters:
              - { id: c, destinations: [http://127.0.0.1:1] }
            """, "t.yaml"));
        var text = string.Join("\n", e.Errors);
        Assert.Contains("t.yaml:3:20: cache.max_object_size: is larger than cache.memory", text);
        Assert.Contains("cache.heuristic.fraction: '3' is not a number from 0 to 1", text);
        Assert.Contains("cache.lock_timout: unknown key; did you mean 'lock_timeout'?", text);
        Assert.Contains("cache.disk.path: is required", text);
        Assert.Contains("routes[0].cache: 'maybe' is not a boolean", text);
    }
}
