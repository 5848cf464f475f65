using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary><c>compress</c> through the real edge: negotiation, what is never compressed, and the shared cache.</summary>
public sealed class CompressRuleTests
{
    private static readonly string Text = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i}: the quick brown fox\n"));

    private static readonly byte[] Gzipped = Gzip(Text);

    private static Task Serve(HttpContext ctx)
    {
        var response = ctx.Response;
        switch (ctx.Request.Path.Value)
        {
            case "/png":
                response.ContentType = "image/png";
                return response.WriteAsync(Text);
            case "/gzipped":
                response.ContentType = "text/plain";
                response.Headers.ContentEncoding = "gzip";
                return response.Body.WriteAsync(Gzipped).AsTask();
            case "/no-transform":
                response.ContentType = "text/plain";
                response.Headers.CacheControl = "no-transform";
                return response.WriteAsync(Text);
            case "/small":
                response.ContentType = "text/plain";
                response.ContentLength = 5;
                return response.WriteAsync("small");
            case "/etag":
                response.Headers.ETag = "\"v1\"";
                if (ctx.Request.Headers.IfNoneMatch == "\"v1\"")
                {
                    response.StatusCode = StatusCodes.Status304NotModified;
                    return Task.CompletedTask;
                }
                response.ContentType = "text/plain";
                return response.WriteAsync(Text);
            case "/cached":
                response.ContentType = "text/html; charset=utf-8";
                response.Headers.CacheControl = "public, max-age=60";
                return response.WriteAsync(Text);
            default:
                response.ContentType = "text/plain; charset=utf-8";
                response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(Text);
                return response.WriteAsync(Text);
        }
    }

    private static string Config(Uri origin, string compress = "{}") => $$"""
        routes:
          - id: site
            cluster: app
            cache: true
            rules:
              - compress: {{compress}}
        clusters:
          - id: app
            destinations: [{{origin}}]
        """;

    private static async Task<(HttpResponseMessage Response, byte[] Body)> GetAsync(HttpClient client, string path, string? acceptEncoding, HttpMethod? method = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (acceptEncoding is not null) request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        var response = await client.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private static string Decode(string? encoding, byte[] body)
    {
        using Stream stream = encoding switch
        {
            "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
            "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
            null => new MemoryStream(body),
            _ => throw new InvalidOperationException(encoding),
        };
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string? EncodingOf(HttpResponseMessage r) => r.Content.Headers.ContentEncoding.SingleOrDefault();

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("gzip;q=1.0, br;q=0.5", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]
    [CoversKey("rules[].compress.level")]
    public async Task AcceptEncoding_Negotiated_DecompressesToTheServersBody(string accept, string expected)
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "{ level: optimal }"));

        var (response, body) = await GetAsync(edge.Client, "/text", accept);
        Assert.Equal(expected, EncodingOf(response));
        Assert.True(body.Length < Text.Length / 4, $"{body.Length} bytes");
        Assert.Equal(Text, Decode(expected, body));
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.NotEqual(Text.Length, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task NoAcceptEncoding_Identity_WithVary()
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));

        var (response, body) = await GetAsync(edge.Client, "/text", null);
        Assert.Null(EncodingOf(response));
        Assert.Equal(Text, System.Text.Encoding.UTF8.GetString(body));
        Assert.Equal(Text.Length, response.Content.Headers.ContentLength);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);

        var (identity, _) = await GetAsync(edge.Client, "/text", "identity");
        Assert.Null(EncodingOf(identity));
    }

    [Fact]
    [CoversKey("rules[].compress.min_size")]
    public async Task NotCompressed_Images_AlreadyEncoded_NoTransform_Small()
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "{ min_size: 100 }"));

        var (png, pngBody) = await GetAsync(edge.Client, "/png", "gzip, br");
        Assert.Null(EncodingOf(png));
        Assert.Equal(Text, System.Text.Encoding.UTF8.GetString(pngBody));

        var (gzipped, gzippedBody) = await GetAsync(edge.Client, "/gzipped", "gzip, br");
        Assert.Equal(["gzip"], gzipped.Content.Headers.ContentEncoding);
        Assert.Equal(Gzipped, gzippedBody);

        var (noTransform, noTransformBody) = await GetAsync(edge.Client, "/no-transform", "gzip, br");
        Assert.Null(EncodingOf(noTransform));
        Assert.Equal(Text, System.Text.Encoding.UTF8.GetString(noTransformBody));

        var (small, smallBody) = await GetAsync(edge.Client, "/small", "gzip, br");
        Assert.Null(EncodingOf(small));
        Assert.Equal("small", System.Text.Encoding.UTF8.GetString(smallBody));
    }

    [Fact]
    [CoversKey("rules[].compress.types")]
    public async Task Types_OnlyTheListedOnesAreCompressed()
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "{ types: [image/*] }"));

        var (png, pngBody) = await GetAsync(edge.Client, "/png", "gzip");
        Assert.Equal("gzip", EncodingOf(png));
        Assert.Equal(Text, Decode("gzip", pngBody));
        var (text, _) = await GetAsync(edge.Client, "/text", "gzip");
        Assert.Null(EncodingOf(text));
    }

    [Fact]
    public async Task HeadAndNotModified_Untouched()
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));

        var (head, headBody) = await GetAsync(edge.Client, "/text", "gzip, br", HttpMethod.Head);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Null(EncodingOf(head));
        Assert.Equal(Text.Length, head.Content.Headers.ContentLength);
        Assert.Empty(headBody);

        var (notModified, notModifiedBody) = await GetAsync(edge.Client, "/etag", "gzip, br", ifNoneMatch: "\"v1\"");
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Null(EncodingOf(notModified));
        Assert.Empty(notModifiedBody);
    }

    [Fact]
    public async Task CachedRoute_StoresIdentity_EachClientGetsItsOwnEncoding()
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));

        var (first, firstBody) = await GetAsync(edge.Client, "/cached", "gzip");
        Assert.Equal("gzip", EncodingOf(first));
        Assert.Equal(Text, Decode("gzip", firstBody));

        var (identity, identityBody) = await GetAsync(edge.Client, "/cached", null);
        Assert.Null(EncodingOf(identity));
        Assert.Equal(Text, System.Text.Encoding.UTF8.GetString(identityBody));
        Assert.Contains("hit", string.Join(",", identity.Headers.GetValues("Cache-Status")));

        var (br, brBody) = await GetAsync(edge.Client, "/cached", "br");
        Assert.Equal("br", EncodingOf(br));
        Assert.Equal(Text, Decode("br", brBody));
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task LaterRulesAnswer_IsCompressedToo_EarlierRulesAnswerIsNot()
    {
        await using var origin = await TestOrigin.StartAsync("app", Serve);
        var page = string.Concat(Enumerable.Repeat("<p>Back soon, we are upgrading.</p>", 40));
        await using var edge = await TestEdge.StartAsync($$"""
            routes:
              - id: after
                match: { path_prefix: /after }
                cluster: app
                rules:
                  - compress: {}
                  - respond: { status: 503, body: '{{page}}', content_type: text/html }
              - id: before
                match: { path_prefix: /before }
                cluster: app
                rules:
                  - respond: { status: 503, body: '{{page}}', content_type: text/html }
                  - compress: {}
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
            """);

        var (after, afterBody) = await GetAsync(edge.Client, "/after", "gzip");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
        Assert.Equal("gzip", EncodingOf(after));
        Assert.Equal(page, Decode("gzip", afterBody));
        var (before, beforeBody) = await GetAsync(edge.Client, "/before", "gzip");
        Assert.Null(EncodingOf(before));
        Assert.Equal(page, System.Text.Encoding.UTF8.GetString(beforeBody));
        Assert.Equal(0, origin.Requests);
    }

    [Fact]
    public void Load_BadCompress_LocatedError()
    {
        var yaml = """
            clusters:
              - id: app
                destinations: [http://127.0.0.1:1]
            routes:
              - id: web
                cluster: app
                rules:
                  - compress: { types: [html], level: best }
            """;
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "t.yaml"));
        Assert.Equal([
            "t.yaml:8:29: routes[0].rules[0].compress.types: 'html' is not a media type; write it like text/html, application/json or text/*",
            "t.yaml:8:43: routes[0].rules[0].compress.level: 'best' is not allowed; allowed: fastest, optimal",
        ], error.Errors.Select(e => e.ToString()));
    }
}
