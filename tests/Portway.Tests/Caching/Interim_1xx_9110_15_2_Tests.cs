using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Caching;

/// <summary>
/// RFC 9110 §15.2 / RFC 8297: interim 1xx responses (103 Early Hints). What the edge does today,
/// pinned down: SocketsHttpHandler, the forwarder's client, reads and discards every 1xx but 100
/// and 101 (and their fields), and Kestrel has no API to send one, so the client never sees the
/// 103. It does get the final response intact, and the cache stores only final responses
/// (RFC 9111 §3). See docs/caching.md, "Interim responses".
/// </summary>
public sealed class Interim_1xx_9110_15_2_Tests
{
    private const string Final =
        "HTTP/1.1 200 OK\r\n" +
        "Cache-Control: max-age=60\r\n" +
        "Content-Type: text/plain\r\n" +
        "Content-Length: 5\r\n" +
        "\r\n" +
        "hello";

    private const string EarlyHints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n";

    public static TheoryData<string> Interims =>
    [
        EarlyHints,
        EarlyHints + "HTTP/1.1 103 Early Hints\r\nLink: </app.js>; rel=preload; as=script\r\n\r\n",
        "HTTP/1.1 102 Processing\r\n\r\n" + EarlyHints,
    ];

    [Theory]
    [MemberData(nameof(Interims))]
    public async Task EarlyHints_BeforeFinal_ClientGetsFinalIntactAndNeverThe103(string interims)
    {
        await using var origin = RawOrigin.Start(interims + Final);
        await using var h = await CacheHarness.StartAsync(origin, routeCaches: false);

        var raw = await RawHttp.SendAsync(h.Edge.ProxyUrl, "GET /page HTTP/1.1\r\nHost: example.com\r\n\r\n");

        // The first and only status line the client reads is the final one.
        Assert.Equal(200, RawHttp.Status(raw));
        Assert.DoesNotContain("HTTP/1.1 1", raw, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nhello", raw, StringComparison.Ordinal);
        // The 103's fields were discarded with it; they do not leak into the final response.
        Assert.DoesNotContain("Link:", raw, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Interims))]
    public async Task EarlyHints_OnCachingRoute_FinalStoredAndServed103Never(string interims)
    {
        await using var origin = RawOrigin.Start(interims + Final);
        await using var h = await CacheHarness.StartAsync(origin);

        var first = await h.GetAsync("/page");
        Assert.Equal(System.Net.HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("hello", await first.Body());
        Assert.Contains("fwd-status=200; stored", first.CacheStatus());

        var hit = await RawHttp.SendAsync(h.Edge.ProxyUrl, $"GET /page HTTP/1.1\r\nHost: {h.Edge.ProxyUrl.Authority}\r\n\r\n");
        Assert.Equal(200, RawHttp.Status(hit));
        Assert.Contains("Cache-Status: Portway; hit", hit, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 1", hit, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nhello", hit, StringComparison.Ordinal);
        Assert.Equal(1, h.OriginRequests);

        var key = System.Text.RegularExpressions.Regex.Match(first.CacheStatus(), "key=\"([^\"]+)\"").Groups[1].Value;
        var entry = Assert.Single(h.Cache.Store.Variants(key) ?? []);
        Assert.Equal(200, entry.Status);
        Assert.DoesNotContain(entry.Headers, f => f.Key.Equals("Link", StringComparison.OrdinalIgnoreCase));
    }
}
