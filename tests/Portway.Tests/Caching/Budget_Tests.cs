using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Portway.Edge.Caching;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Caching;

/// <summary>Eviction: the memory budget is never exceeded, LRU keeps what is used, and the per-object overhead stays under 1 KB.</summary>
[Collection(MemoryMeasurement.Name)]
public sealed class Budget_Tests
{
    private static CacheEntry Entry(string key, int bodyBytes) =>
        new(key, 200, [new("Content-Type", "text/plain"), new("Cache-Control", "max-age=60"), new("ETag", "\"abc\"")],
            [new byte[bodyBytes]], bodyBytes, new Freshness { Lifetime = TimeSpan.FromSeconds(60) }, null, null, null);

    [Fact]
    public void Store_RandomWorkload_NeverExceedsBudget()
    {
        var store = new CacheStore(1024 * 1024);
        var random = new Random(42);
        var reservations = new List<long>();
        for (var i = 0; i < 20_000; i++)
        {
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    var e = Entry("k" + random.Next(500), random.Next(0, 64 * 1024));
                    if (store.TryReserve(e.Size)) store.Commit(e, e.Size);
                    break;
                case 2:
                    var bytes = random.Next(1, 32 * 1024);
                    if (store.TryReserve(bytes)) reservations.Add(bytes);
                    break;
                default:
                    if (reservations.Count > 0)
                    {
                        store.Release(reservations[^1]);
                        reservations.RemoveAt(reservations.Count - 1);
                    }
                    store.Remove("k" + random.Next(500));
                    break;
            }
            Assert.InRange(store.Used, 0, store.Budget);
        }
    }

    [Fact]
    public void Store_Lru_KeepsRecentlyUsed()
    {
        var store = new CacheStore(10 * (1000 + 2048));
        var headers = new HeaderDictionary();
        var first = Entry("first", 1000);
        store.TryReserve(first.Size);
        store.Commit(first, first.Size);
        for (var i = 0; i < 50; i++)
        {
            var e = Entry("k" + i, 1000);
            if (store.TryReserve(e.Size)) store.Commit(e, e.Size);
            // "first" is used between insertions; its touch is rate-limited to once a second, so force it.
            first.Touched = 0;
            Assert.NotNull(store.Find("first", headers, out _));
        }
        Assert.NotNull(store.Find("first", headers, out _));
        Assert.Null(store.Find("k0", headers, out _));
        Assert.NotNull(store.Find("k49", headers, out _));
    }

    [Fact]
    public void Entry_ObjectOverhead_UnderOneKilobyte()
    {
        // Measured: memory for 20,000 stored small objects, minus their body and header bytes.
        const int n = 20_000;
        var store = new CacheStore(1L << 32);
        var keys = new string[n];
        for (var i = 0; i < n; i++) keys[i] = "http://example.com/objects/" + i.ToString("D8");
        var headerValues = new[] { "text/plain", "max-age=60", "\"abc\"", "Tue, 01 Jan 2030 00:00:00 GMT" };
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        var before = GC.GetTotalMemory(true);
        long payload = 0;
        for (var i = 0; i < n; i++)
        {
            var body = new byte[100];
            var e = new CacheEntry(keys[i], 200,
                [new("Content-Type", headerValues[0]), new("Cache-Control", headerValues[1]), new("ETag", headerValues[2]), new("Date", headerValues[3])],
                [body], body.Length, new Freshness { Lifetime = TimeSpan.FromSeconds(60) }, null, null, null);
            payload += body.Length + 24; // the body array itself, with its object header
            store.TryReserve(e.Size);
            store.Commit(e, e.Size);
        }
        var after = GC.GetTotalMemory(true);
        var perObject = (after - before - payload) / (double)n;
        Assert.Equal(n, store.Count);
        Assert.True(perObject < 1024, $"overhead per object {perObject:0} bytes");
        // The budget's estimate is not below the measured cost.
        Assert.True(CacheEntry.Overhead + 24 * 4 >= perObject, $"measured {perObject:0} bytes per object, Overhead constant {CacheEntry.Overhead}");
        GC.KeepAlive(store);
    }

    [Fact]
    [CoversKey("cache.memory")]
    public async Task Edge_RandomWorkload_BudgetNeverExceeded()
    {
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            var size = int.Parse(ctx.Request.Query["size"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.Headers.CacheControl = "max-age=1000";
            // Half the objects without Content-Length, so fills grow segment by segment.
            if (size % 2 == 0) ctx.Response.ContentLength = size;
            await ctx.Response.Body.WriteAsync(new byte[size]);
        }, "memory: 1m\nmax_object_size: 256k");
        var random = new Random(7);
        long peak = 0;
        using var sampler = new CancellationTokenSource();
        var sampling = Task.Run(async () =>
        {
            while (!sampler.IsCancellationRequested)
            {
                peak = Math.Max(peak, h.Cache.Store.Used);
                await Task.Yield();
            }
        });
        var workers = new Task[8];
        for (var w = 0; w < workers.Length; w++)
        {
            var seed = random.Next();
            workers[w] = Task.Run(async () =>
            {
                var r = new Random(seed);
                for (var i = 0; i < 40; i++)
                {
                    var size = r.Next(1, 300 * 1024);
                    var response = await h.GetAsync($"/o/{r.Next(60)}?size={size}");
                    Assert.Equal(size, (await response.Content.ReadAsByteArrayAsync()).Length);
                }
            });
        }
        await Task.WhenAll(workers);
        sampler.Cancel();
        await sampling;
        Assert.InRange(peak, 1, 1024 * 1024);
        Assert.InRange(h.Cache.Store.Used, 1, 1024 * 1024);
    }
}
