using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Caching;

/// <summary>
/// Large responses: streamed while stored, and past the object limit passed through without
/// buffering. Alone in its collection (run after the parallel tests) so process memory reflects this test only.
/// </summary>
[Collection(MemoryMeasurement.Name)]
public sealed class Streaming_Tests
{
    [Fact]
    public async Task LargeStorable_StreamedToClientAndStored()
    {
        const int size = 3 * 1024 * 1024 + 17;
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=100";
            var chunk = new byte[8192];
            for (var sent = 0; sent < size; sent += chunk.Length)
            {
                var n = Math.Min(chunk.Length, size - sent);
                for (var i = 0; i < n; i++) chunk[i] = (byte)((sent + i) % 251);
                await ctx.Response.Body.WriteAsync(chunk.AsMemory(0, n));
            }
        });
        var first = await (await h.GetAsync("/big")).Content.ReadAsByteArrayAsync();
        var second = await h.GetAsync("/big");
        Assert.True(second.IsHit(), second.CacheStatus());
        var bytes = await second.Content.ReadAsByteArrayAsync();
        Assert.Equal(size, bytes.Length);
        Assert.Equal(first, bytes);
        for (var i = 0; i < size; i += 4099) Assert.Equal((byte)(i % 251), bytes[i]);
    }

    [Fact]
    public async Task OneGigabyte_OverLimit_PassesThroughWithFlatMemory()
    {
        const long size = 1024L * 1024 * 1024;
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            // No Content-Length: the edge only learns it is too big while it streams.
            ctx.Response.Headers.CacheControl = "max-age=100";
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < size; sent += chunk.Length) await ctx.Response.Body.WriteAsync(chunk);
        }, "max_object_size: 4m");
        GC.Collect();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var baseline = GC.GetTotalMemory(true);
        var baselineRss = process.WorkingSet64;
        long peakManaged = 0, peakRss = 0;
        using var response = await h.Client.GetAsync("/huge", HttpCompletionOption.ResponseHeadersRead);
        Assert.Contains("stored", response.Headers.GetValues("Cache-Status").First());
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        var samples = 0;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
            if (++samples % 1024 == 0)
            {
                // Live objects only (a full collection per sample; 16 samples over the 1 GB).
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(true) - baseline);
                process.Refresh();
                peakRss = Math.Max(peakRss, process.WorkingSet64 - baselineRss);
            }
        }
        Assert.Equal(size, total);
        // The copy was dropped at 4 MiB; nothing like 1 GB was ever held.
        Assert.True(peakRss < 200L * 1024 * 1024, $"working set grew by {peakRss / (1024 * 1024)} MiB");
        Assert.True(peakManaged < 64L * 1024 * 1024, $"managed heap grew by {peakManaged / (1024 * 1024)} MiB");
        Assert.Equal(0, h.Cache.Store.Count);
        Assert.Equal(0, h.Cache.Store.Used);
    }

    [Fact]
    [CoversKey("cache.max_object_size")]
    public async Task KnownLengthOverLimit_NotCopiedAtAll()
    {
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=100";
            ctx.Response.ContentLength = 2 * 1024 * 1024;
            await ctx.Response.Body.WriteAsync(new byte[2 * 1024 * 1024]);
        }, "max_object_size: 1m");
        var r = await h.GetAsync("/big");
        Assert.Contains("detail=too-big", r.CacheStatus());
        Assert.Equal(2 * 1024 * 1024, (await r.Content.ReadAsByteArrayAsync()).Length);
        Assert.False((await h.GetAsync("/big")).IsHit());
    }
}

/// <summary>Tests that measure process memory run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "Memory measurement (not parallel)";
}
