using System.IO.Compression;
using System.Text;
using Portway.Agent.Inspector;
using Xunit;

namespace Portway.Tests.Inspector;

public sealed class InspectorUnitTests
{
    private static CapturedExchange Entry(int bodyBytes) => new()
    {
        Tunnel = "t",
        Started = DateTimeOffset.UnixEpoch,
        Duration = TimeSpan.Zero,
        Method = "GET",
        Target = "/",
        RequestHeaders = [],
        RequestBody = new CapturedBody(new byte[bodyBytes], bodyBytes),
        Status = 200,
        ResponseHeaders = [],
        ResponseBody = CapturedBody.Empty,
    };

    [Fact]
    public void Store_OverByteBudget_DropsOldestButKeepsNewest()
    {
        var store = new InspectorStore(new InspectorOptions { Capacity = 100, TotalBodyBytes = 250 });
        var first = store.Add(Entry(100));
        var second = store.Add(Entry(100));
        var third = store.Add(Entry(100));
        var huge = store.Add(Entry(1000));

        Assert.Null(store.Find(first.Id));
        Assert.Null(store.Find(second.Id));
        Assert.Null(store.Find(third.Id));
        Assert.Same(huge, store.Find(huge.Id));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void Store_Subscriber_SeesNewEntriesAndClear()
    {
        var store = new InspectorStore(new InspectorOptions());
        using var subscription = store.Subscribe();
        var added = store.Add(Entry(0));
        store.Clear();

        Assert.True(subscription.Reader.TryRead(out var first));
        Assert.Same(added, first.Entry);
        Assert.True(subscription.Reader.TryRead(out var cleared));
        Assert.Null(cleared.Entry);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void BodyView_GzipWholeBody_DecodedAsText()
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write("{\"a\":1}"u8);
        var data = output.ToArray();

        var view = BodyView.Of(new CapturedBody(data, data.Length), "gzip");

        Assert.Equal("{\"a\":1}", view.Text);
        Assert.Equal("gzip", view.DecodedFrom);
    }

    [Fact]
    public void BodyView_Binary_Base64()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00];

        var view = BodyView.Of(new CapturedBody(png, png.Length), null);

        Assert.Null(view.Text);
        Assert.Equal(Convert.ToBase64String(png), view.Base64);
    }

    [Fact]
    public void BodyView_TruncatedInsideMultibyteCharacter_StillText()
    {
        var full = Encoding.UTF8.GetBytes("héllo wörld");
        var cut = full[..9]; // "héllo w" + the first byte of "ö"

        var view = BodyView.Of(new CapturedBody(cut, full.Length), null);

        Assert.Equal("héllo w", view.Text);
    }

    [Fact]
    public async Task BodyCaptureStream_PastLimit_PassesEverythingKeepsPrefix()
    {
        var inner = new MemoryStream();
        var capture = new BodyCaptureStream(inner, limit: 10);

        await capture.WriteAsync(Encoding.ASCII.GetBytes("0123456"));
        await capture.WriteAsync(Encoding.ASCII.GetBytes("789abcdef"));

        Assert.Equal("0123456789abcdef", Encoding.ASCII.GetString(inner.ToArray()));
        var body = capture.Snapshot();
        Assert.Equal("0123456789", Encoding.ASCII.GetString(body.Data));
        Assert.Equal(16, body.Size);
        Assert.True(body.Truncated);
    }

    [Theory]
    [InlineData("""{"method": "GET", "bogus": 1}""", "'bogus'")]
    [InlineData("""{"path": "no-slash"}""", "'path'")]
    [InlineData("""{"headers": [["Bad Name", "v"]]}""", "headers:")]
    [InlineData("""[1]""", "JSON object")]
    [InlineData("""{"method": """, "not valid JSON")]
    public void ReplayEdits_Invalid_SaysWhatIsWrong(string json, string expected)
    {
        Assert.Null(ReplayEdits.Parse(Encoding.UTF8.GetBytes(json), out var error));
        Assert.Contains(expected, error);
    }
}
