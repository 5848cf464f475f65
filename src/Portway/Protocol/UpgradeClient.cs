using System.Globalization;
using System.Text;

namespace Portway.Protocol;

/// <summary>
/// The agent's half of the link handshake: one HTTP/1.1 request with <c>Upgrade</c> (RFC 9110
/// §7.8) written by hand, because HttpClient cannot hand back the raw connection after a 101.
/// </summary>
internal static class UpgradeClient
{
    /// <summary>Response heads are small; anything larger is not a Portway edge.</summary>
    private const int MaxHeadBytes = 16 * 1024;
    private const int MaxBodyBytes = 16 * 1024;

    public static async Task<UpgradeResponse> SendAsync(Stream stream, string host, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var request = new StringBuilder();
        request.Append("GET ").Append(LinkProtocol.Path).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(host).Append("\r\n");
        request.Append("Connection: Upgrade\r\nUpgrade: ").Append(LinkProtocol.UpgradeToken).Append("\r\n");
        foreach (var (k, v) in headers)
        {
            if (v.AsSpan().IndexOfAny('\r', '\n') >= 0) throw new ArgumentException($"header {k} contains a line break", nameof(headers));
            request.Append(k).Append(": ").Append(v).Append("\r\n");
        }
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken);
        await stream.FlushAsync(cancellationToken);

        var buffer = new byte[4096];
        var filled = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxHeadBytes) throw new InvalidDataException("the edge's response head is larger than 16 KiB; is this a Portway edge?");
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            var n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (n == 0) throw new EndOfStreamException("the edge closed the connection before answering the link request");
            filled += n;
        }
        var head = Encoding.Latin1.GetString(buffer, 0, headEnd).Split("\r\n");
        var status = head[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            throw new InvalidDataException($"the edge answered '{head[0]}', which is not an HTTP/1.1 status line; is this a Portway edge?");
        var list = new List<KeyValuePair<string, string>>();
        for (var i = 1; i < head.Length; i++)
        {
            var colon = head[i].IndexOf(':');
            if (colon > 0) list.Add(new(head[i][..colon].Trim(), head[i][(colon + 1)..].Trim()));
        }
        var leftover = buffer.AsMemory(headEnd + 4, filled - headEnd - 4);
        var response = new UpgradeResponse { StatusCode = code, Reason = status.Length > 2 ? status[2] : "", Headers = list };
        if (code == 101) return new UpgradeResponse { StatusCode = code, Reason = response.Reason, Headers = list, Link = new PrefixedStream(stream, leftover.ToArray()) };
        return new UpgradeResponse { StatusCode = code, Reason = response.Reason, Headers = list, Body = await ReadBodyAsync(stream, response, leftover, cancellationToken) };
    }

    private static async Task<string> ReadBodyAsync(Stream stream, UpgradeResponse response, ReadOnlyMemory<byte> leftover, CancellationToken cancellationToken)
    {
        var length = long.TryParse(response.Header("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : -1;
        if (length < 0 && response.Header("Transfer-Encoding") is not null) length = -2;
        var body = new MemoryStream();
        body.Write(leftover.Span);
        var buffer = new byte[4096];
        // Content-Length bodies are read to their length; chunked or close-delimited ones until EOF or the cap.
        while ((length < 0 || body.Length < length) && body.Length < MaxBodyBytes)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                break;
            }
            if (n == 0) break;
            body.Write(buffer, 0, n);
            if (length == -2 && body.GetBuffer().AsSpan(0, (int)body.Length).EndsWith("0\r\n\r\n"u8)) break; // last chunk
        }
        var text = Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)Math.Min(body.Length, length >= 0 ? length : body.Length));
        return length == -2 ? Dechunk(text) : text.Trim();
    }

    /// <summary>Enough of RFC 9112 §7.1 to read a short chunked error message.</summary>
    private static string Dechunk(string text)
    {
        var result = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var eol = text.IndexOf("\r\n", i, StringComparison.Ordinal);
            if (eol < 0) break;
            if (!int.TryParse(text.AsSpan(i, eol - i).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size == 0) break;
            var start = eol + 2;
            result.Append(text, start, Math.Min(size, text.Length - start));
            i = start + size + 2;
        }
        return result.ToString().Trim();
    }
}
