using System.IO.Compression;
using System.Text;

namespace Portway.Agent.Inspector;

/// <summary>
/// How a captured body is shown: as text when it is UTF-8 without control characters (after
/// undoing gzip, deflate or br when the whole body was kept), otherwise as base64 for the page to
/// show by size. Runs only when someone opens an entry, never on the request path.
/// </summary>
internal readonly record struct BodyView(string? Text, string? Base64, string? DecodedFrom)
{
    // A zip bomb in a captured response must not take the agent down with it.
    private const int MaxDecoded = 8 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static BodyView Of(CapturedBody body, string? contentEncoding)
    {
        if (body.Data.Length == 0) return new BodyView("", null, null);
        if (!body.Truncated && Decode(body.Data, contentEncoding) is { } decoded && AsText(decoded, truncated: false) is { } decodedText)
            return new BodyView(decodedText, null, contentEncoding!.Trim().ToLowerInvariant());
        if (AsText(body.Data, body.Truncated) is { } text) return new BodyView(text, null, null);
        return new BodyView(null, Convert.ToBase64String(body.Data), null);
    }

    private static byte[]? Decode(byte[] data, string? encoding)
    {
        Stream? decoder;
        var source = new MemoryStream(data, writable: false);
        switch (encoding?.Trim().ToLowerInvariant())
        {
            case "gzip" or "x-gzip": decoder = new GZipStream(source, CompressionMode.Decompress); break;
            case "deflate": decoder = new ZLibStream(source, CompressionMode.Decompress); break;
            case "br": decoder = new BrotliStream(source, CompressionMode.Decompress); break;
            default: return null;
        }
        try
        {
            using (decoder)
            {
                var output = new MemoryStream();
                var buffer = new byte[16 * 1024];
                int n;
                while ((n = decoder.Read(buffer)) > 0)
                {
                    if (output.Length + n > MaxDecoded) return null;
                    output.Write(buffer, 0, n);
                }
                return output.ToArray();
            }
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static string? AsText(byte[] data, bool truncated)
    {
        var length = data.Length;
        // A cut body may end inside a UTF-8 sequence (at most 3 bytes of one); drop that tail.
        if (truncated)
        {
            var back = 0;
            while (back < 3 && back < length && (data[length - 1 - back] & 0xC0) == 0x80) back++;
            if (back < length && data[length - 1 - back] >= 0xC0) length -= back + 1;
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(data, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        foreach (var c in text)
        {
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r' or '\f')) return null;
        }
        return text;
    }
}
