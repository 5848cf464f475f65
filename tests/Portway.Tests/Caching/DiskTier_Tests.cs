using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Caching;

/// <summary>The disk tier: entries survive an edge restart, purges reach the disk, its budget holds.</summary>
public sealed class DiskTier_Tests
{
    private static Task Handler(HttpContext ctx)
    {
        ctx.Response.Headers.CacheControl = "max-age=1000";
        ctx.Response.Headers.ETag = "\"d1\"";
        ctx.Response.Headers["Surrogate-Key"] = "disk";
        return ctx.Response.WriteAsync("persisted " + ctx.Request.Path);
    }

    private static string Config(string dir, string size = "10m") => $"disk:\n  path: {dir}\n  size: {size}";

    [Fact]
    public async Task DiskTier_EdgeRestart_EntryServedWithoutOrigin()
    {
        var dir = Directory.CreateTempSubdirectory("portway-disk-").FullName;
        await using var h = await CacheHarness.StartAsync(Handler, Config(dir));
        h.Host = "cache.test";
        await h.GetAsync("/d");
        await Wait.UntilAsync(() => h.Cache.Disk!.Pending == 0 && h.Cache.Disk.Count == 1, because: "written to disk");
        h.Advance(TimeSpan.FromSeconds(30));
        await h.RestartEdgeAsync();
        Assert.Equal(0, h.Cache.Store.Count);
        var r = await h.GetAsync("/d");
        Assert.True(r.IsHit(), r.CacheStatus());
        Assert.Equal("persisted /d", await r.Body());
        Assert.Equal(30, r.AgeSeconds());
        Assert.Equal("\"d1\"", r.Headers.ETag?.ToString());
        Assert.Equal(1, h.OriginRequests);
        // Promoted to memory: the next hit does not read the disk.
        Assert.Equal(1, h.Cache.Store.Count);
    }

    [Fact]
    [CoversKey("cache.disk.path")]
    public async Task DiskTier_Purge_RemovesFileToo()
    {
        var dir = Directory.CreateTempSubdirectory("portway-disk-").FullName;
        await using var h = await CacheHarness.StartAsync(Handler, Config(dir));
        await h.GetAsync("/d");
        await Wait.UntilAsync(() => h.Cache.Disk!.Pending == 0 && h.Cache.Disk.Count == 1);
        Assert.Single(Directory.GetFiles(dir, "*.pwc"));
        Assert.Equal(1, h.Cache.Purge(null, "disk"));
        Assert.Empty(Directory.GetFiles(dir, "*.pwc"));
        await h.RestartEdgeAsync();
        Assert.Equal(0, h.Cache.Disk!.Count);
        Assert.False((await h.GetAsync("/d")).IsHit());
    }

    [Fact]
    [CoversKey("cache.disk.size")]
    public async Task DiskTier_OverBudget_OldestFilesDeleted()
    {
        var dir = Directory.CreateTempSubdirectory("portway-disk-").FullName;
        await using var h = await CacheHarness.StartAsync(async ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=1000";
            await ctx.Response.Body.WriteAsync(new byte[100 * 1024]);
        }, Config(dir, "1m"));
        for (var i = 0; i < 30; i++) await h.GetAsync("/big/" + i);
        await Wait.UntilAsync(() => h.Cache.Disk!.Pending == 0);
        Assert.InRange(h.Cache.Disk!.Used, 1, 1024 * 1024);
        var onDisk = new DirectoryInfo(dir).GetFiles("*.pwc").Sum(f => f.Length);
        Assert.InRange(onDisk, 1, 1024 * 1024);
    }
}
