using Microsoft.AspNetCore.Http;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 9111 §4.1: secondary keys from Vary, normalised; Vary: * never matches.</summary>
public sealed class Vary_4_1_Tests
{
    private static Task ByLanguage(HttpContext ctx)
    {
        ctx.Response.Headers.CacheControl = "max-age=100";
        ctx.Response.Headers.Vary = "Accept-Language, Accept-Encoding";
        return ctx.Response.WriteAsync("lang=" + ctx.Request.Headers.AcceptLanguage + ";enc=" + ctx.Request.Headers.AcceptEncoding);
    }

    [Fact]
    public async Task Vary_DifferentValues_SeparateVariants()
    {
        await using var h = await CacheHarness.StartAsync(ByLanguage);
        var en = await h.GetAsync("/v", ("Accept-Language", "en"));
        var fr = await h.GetAsync("/v", ("Accept-Language", "fr"));
        Assert.Contains("fwd=vary-miss", fr.CacheStatus());
        var en2 = await h.GetAsync("/v", ("Accept-Language", "en"));
        var fr2 = await h.GetAsync("/v", ("Accept-Language", "fr"));
        Assert.True(en2.IsHit());
        Assert.True(fr2.IsHit());
        Assert.Equal(await en.Body(), await en2.Body());
        Assert.Equal(await fr.Body(), await fr2.Body());
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Vary_EquivalentValues_NormalisedToSameVariant()
    {
        await using var h = await CacheHarness.StartAsync(ByLanguage);
        await h.GetAsync("/v", ("Accept-Language", "en"), ("Accept-Encoding", "gzip, br"));
        var same = await h.GetAsync("/v", ("Accept-Language", " en "), ("Accept-Encoding", "GZIP,br"));
        Assert.True(same.IsHit(), same.CacheStatus());
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task Vary_AbsentHeader_MatchesOnlyAbsent()
    {
        await using var h = await CacheHarness.StartAsync(ByLanguage);
        await h.GetAsync("/v");
        Assert.True((await h.GetAsync("/v")).IsHit());
        Assert.False((await h.GetAsync("/v", ("Accept-Language", "en"))).IsHit());
    }

    [Fact]
    public async Task VaryStar_NeverStored()
    {
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=100";
            ctx.Response.Headers.Vary = "*";
            return ctx.Response.WriteAsync("x");
        });
        var first = await h.GetAsync("/v");
        Assert.Contains("detail=vary-star", first.CacheStatus());
        Assert.False((await h.GetAsync("/v")).IsHit());
    }
}
