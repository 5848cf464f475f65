using System.Diagnostics.Metrics;
using Portway.Edge.Metrics;

namespace Portway.Edge.Caching;

/// <summary>
/// Cache instruments on the "Portway" meter, exported on /metrics as portway_cache_requests_total
/// (by result: hit, stale, miss, revalidated, bypass), portway_cache_served_bytes_total,
/// portway_cache_stored_bytes_total, portway_cache_size_bytes and portway_cache_objects.
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Stale = new("result", "stale");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");
    private static readonly KeyValuePair<string, object?> Revalidated = new("result", "revalidated");
    private static readonly KeyValuePair<string, object?> Bypass = new("result", "bypass");
    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _served;
    private readonly Counter<long> _stored;

    public CacheMetrics(CacheStore store)
    {
        _meter = new Meter(EdgeMetrics.MeterName);
        _requests = _meter.CreateCounter<long>("portway.cache.requests", description: "Requests on caching routes by how the cache answered.");
        _served = _meter.CreateCounter<long>("portway.cache.served", unit: "By", description: "Body bytes served from the cache.");
        _stored = _meter.CreateCounter<long>("portway.cache.stored", unit: "By", description: "Body bytes written into the cache.");
        _meter.CreateObservableGauge("portway.cache.size", () => store.Used, unit: "By", description: "Bytes held by the memory tier, reservations included.");
        _meter.CreateObservableGauge("portway.cache.objects", () => store.Count, description: "Stored responses in the memory tier.");
    }

    public void OnHit(long bytes)
    {
        _requests.Add(1, Hit);
        _served.Add(bytes);
    }

    public void OnStale(long bytes)
    {
        _requests.Add(1, Stale);
        _served.Add(bytes);
    }

    public void OnRevalidated(long bytes)
    {
        _requests.Add(1, Revalidated);
        _served.Add(bytes);
    }

    public void OnMiss() => _requests.Add(1, Miss);

    public void OnBypass() => _requests.Add(1, Bypass);

    public void OnStored(long bytes) => _stored.Add(bytes);

    public void Dispose() => _meter.Dispose();
}
