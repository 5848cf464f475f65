using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>RFC 9111 §4.3: validation with the origin, 304 header update, clients' conditionals, HEAD, and ranges.</summary>
public sealed class Validation_4_3_Tests
{
    /// <summary>An origin with an ETag and Last-Modified that answers its validators with 304 and a header the test can change.</summary>
    private sealed class Versioned
    {
        public string ETag = "\"v1\"";
        public string Body = "hello world, this is the body";
        public string Marker = "one";
        public int Conditionals;
        public DateTimeOffset LastModified = DateTimeOffset.UtcNow.AddDays(-1);

        public Task Handle(HttpContext ctx)
        {
            ctx.Response.Headers.CacheControl = "max-age=10";
            ctx.Response.Headers.ETag = ETag;
            ctx.Response.Headers.LastModified = HeaderUtilities.FormatDate(LastModified);
            ctx.Response.Headers["X-Marker"] = Marker;
            if (ctx.Request.Headers.IfNoneMatch.Count > 0 || ctx.Request.Headers.IfModifiedSince.Count > 0) Interlocked.Increment(ref Conditionals);
            if (ctx.Request.Headers.IfNoneMatch == ETag)
            {
                ctx.Response.StatusCode = 304;
                return Task.CompletedTask;
            }
            ctx.Response.ContentType = "text/plain";
            return ctx.Response.WriteAsync(Body);
        }
    }

    [Fact]
    public async Task Stale_RevalidatedWithIfNoneMatch_304UpdatesStoredHeaders()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        h.Advance(TimeSpan.FromSeconds(11));
        origin.Marker = "two";
        var revalidated = await h.GetAsync("/v");
        Assert.Equal(HttpStatusCode.OK, revalidated.StatusCode);
        Assert.Equal(origin.Body, await revalidated.Body());
        Assert.Contains("fwd=stale; fwd-status=304", revalidated.CacheStatus());
        Assert.Equal(1, origin.Conditionals);
        // §4.3.4: the 304's headers replaced the stored ones, and freshness restarted.
        Assert.Equal("two", revalidated.Header("X-Marker"));
        Assert.Equal("text/plain", revalidated.Header("Content-Type"));
        var hit = await h.GetAsync("/v");
        Assert.True(hit.IsHit(), hit.CacheStatus());
        Assert.Equal("two", hit.Header("X-Marker"));
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Stale_OriginChanged_200ReplacesEntry()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        h.Advance(TimeSpan.FromSeconds(11));
        origin.ETag = "\"v2\"";
        origin.Body = "new body";
        var fresh = await h.GetAsync("/v");
        Assert.Equal("new body", await fresh.Body());
        Assert.Contains("fwd=stale; fwd-status=200; stored", fresh.CacheStatus());
        var hit = await h.GetAsync("/v");
        Assert.True(hit.IsHit());
        Assert.Equal("new body", await hit.Body());
    }

    [Fact]
    public async Task Stale_OnlyLastModified_RevalidatedWithIfModifiedSince()
    {
        string? sent = null;
        var lastModified = HeaderUtilities.FormatDate(DateTimeOffset.UtcNow.AddDays(-2));
        await using var h = await CacheHarness.StartAsync(ctx =>
        {
            ctx.Response.Headers.CacheControl = "max-age=5";
            ctx.Response.Headers.LastModified = lastModified;
            if (ctx.Request.Headers.IfModifiedSince.Count > 0)
            {
                sent = ctx.Request.Headers.IfModifiedSince;
                ctx.Response.StatusCode = 304;
                return Task.CompletedTask;
            }
            return ctx.Response.WriteAsync("lm");
        });
        await h.GetAsync("/lm");
        h.Advance(TimeSpan.FromSeconds(6));
        var r = await h.GetAsync("/lm");
        Assert.Equal("lm", await r.Body());
        Assert.Equal(lastModified, sent);
    }

    [Fact]
    public async Task ClientIfNoneMatch_MatchesStored_304FromCache()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        var r = await h.GetAsync("/v", ("If-None-Match", "\"v1\""));
        Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        Assert.True(r.IsHit());
        Assert.Equal("\"v1\"", r.Headers.ETag?.ToString());
        var other = await h.GetAsync("/v", ("If-None-Match", "\"zzz\""));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task ClientIfModifiedSince_NotModified_304FromCache()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        var r = await h.GetAsync("/v", ("If-Modified-Since", HeaderUtilities.FormatDate(DateTimeOffset.UtcNow)));
        Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        var older = await h.GetAsync("/v", ("If-Modified-Since", HeaderUtilities.FormatDate(DateTimeOffset.UtcNow.AddDays(-3))));
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task ClientConditional_OnStaleEntry_RevalidatedThen304ToClient()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        h.Advance(TimeSpan.FromSeconds(11));
        var r = await h.GetAsync("/v", ("If-None-Match", "\"v1\""));
        Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        Assert.Equal(2, h.OriginRequests);
    }

    [Fact]
    public async Task Head_ServedFromStoredGet()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        var head = await h.SendAsync(HttpMethod.Head, "/v");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.True(head.IsHit());
        Assert.Equal(origin.Body.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, h.OriginRequests);
    }

    [Theory]
    [InlineData("bytes=0-4", "hello", "bytes 0-4/29")]
    [InlineData("bytes=6-", "world, this is the body", "bytes 6-28/29")]
    [InlineData("bytes=-4", "body", "bytes 25-28/29")]
    public async Task Range_FromStoredFullResponse_206(string range, string expected, string contentRange)
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        var r = await h.GetAsync("/v", ("Range", range));
        Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
        Assert.Equal(expected, await r.Body());
        Assert.Equal(contentRange, r.Content.Headers.ContentRange?.ToString());
        Assert.Equal(1, h.OriginRequests);
    }

    [Fact]
    public async Task Range_Unsatisfiable_416()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        var r = await h.GetAsync("/v", ("Range", "bytes=500-"));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, r.StatusCode);
        Assert.Equal("bytes */29", r.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task Range_IfRangeMismatch_FullResponse()
    {
        var origin = new Versioned();
        await using var h = await CacheHarness.StartAsync(origin.Handle);
        await h.GetAsync("/v");
        var r = await h.GetAsync("/v", ("Range", "bytes=0-4"), ("If-Range", "\"old\""));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(origin.Body, await r.Body());
    }
}
