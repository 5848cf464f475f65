using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// One HTTP/2 request by prior knowledge (h2c) from hand-built frames, for shapes HttpClient will
/// not send, such as a plain CONNECT (RFC 9113 §8.5: :method and :authority only). Just enough
/// HPACK (RFC 7541): literal fields with new names out; in, the :status of the response, which
/// Kestrel sends indexed or as a literal without Huffman coding.
/// </summary>
internal static class RawHttp2
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, GoAway = 0x7;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;

    /// <summary>What came back on stream 1: the status (0 if none), the body, and the reset or GOAWAY that ended it, if any.</summary>
    public sealed record Response(int Status, string Body, string? Error);

    public static async Task<Response> SendAsync(Uri server, params (string Name, string Value)[] fields)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var block = new MemoryStream();
        foreach (var (name, value) in fields)
        {
            block.WriteByte(0x00); // literal field without indexing, new name (RFC 7541 §6.2.2)
            WriteString(block, name);
            WriteString(block, value);
        }
        var output = new MemoryStream();
        output.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        output.Write(Frame(Settings, 0, 0, []));
        // No END_STREAM: a CONNECT keeps its stream open for the tunnel it asks for.
        output.Write(Frame(Headers, EndHeaders, 1, block.ToArray()));
        await stream.WriteAsync(output.ToArray(), cts.Token);

        var status = 0;
        var body = new StringBuilder();
        var header = new byte[9];
        while (true)
        {
            await stream.ReadExactlyAsync(header, cts.Token);
            var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
            byte type = header[3], flags = header[4];
            var id = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff;
            await stream.ReadExactlyAsync(payload, cts.Token);
            if (type == Settings && (flags & Ack) == 0)
            {
                await stream.WriteAsync(Frame(Settings, Ack, 0, []), cts.Token);
                continue;
            }
            if (type == GoAway) return new Response(status, body.ToString(), "GOAWAY " + ErrorName(payload.AsSpan(4, 4)));
            if (id != 1) continue;
            if (type == RstStream) return new Response(status, body.ToString(), "RST_STREAM " + ErrorName(payload));
            if (type == Headers && status == 0) status = ReadStatus(Fragment(payload, flags));
            if (type == Data) body.Append(Encoding.UTF8.GetString(Fragment(payload, flags)));
            if ((type == Headers || type == Data) && (flags & EndStream) != 0) return new Response(status, body.ToString(), null);
        }
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private static void WriteString(MemoryStream block, string s)
    {
        var bytes = Encoding.ASCII.GetBytes(s);
        if (bytes.Length > 126) throw new ArgumentException("longer strings need a multi-byte HPACK length", nameof(s));
        block.WriteByte((byte)bytes.Length); // H = 0: not Huffman coded
        block.Write(bytes);
    }

    /// <summary>The payload without padding (and, for HEADERS, without the priority fields; RFC 9113 §6.1, §6.2).</summary>
    private static byte[] Fragment(byte[] payload, byte flags)
    {
        int start = 0, end = payload.Length;
        if ((flags & Padded) != 0) { start = 1; end -= payload[0]; }
        if ((flags & Priority) != 0) start += 5;
        return payload[start..end];
    }

    /// <summary>The :status a response header block starts with (RFC 9113 §8.3.2: pseudo-fields come first).</summary>
    private static int ReadStatus(byte[] block)
    {
        var b = block[0];
        if ((b & 0x80) != 0)
        {
            // Indexed field: the static table holds :status 200, 204, 206, 304, 400, 404, 500 at 8–14 (RFC 7541 Appendix A).
            int[] statuses = [200, 204, 206, 304, 400, 404, 500];
            var index = b & 0x7f;
            if (index is < 8 or > 14) throw new InvalidDataException($"the header block starts with static entry {index}, not :status");
            return statuses[index - 8];
        }
        // A literal whose name is static entry 8–14 (:status): 6-bit index with incremental indexing, else 4-bit.
        var nameIndex = (b & 0x40) != 0 ? b & 0x3f : b & 0x0f;
        if (nameIndex is < 8 or > 14) throw new InvalidDataException($"the header block starts with name index {nameIndex}, not :status");
        if ((block[1] & 0x80) != 0) throw new NotSupportedException("Huffman-coded :status");
        return int.Parse(Encoding.ASCII.GetString(block, 2, block[1] & 0x7f));
    }

    private static string ErrorName(ReadOnlySpan<byte> code) => BinaryPrimitives.ReadUInt32BigEndian(code) switch
    {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        var other => $"0x{other:X}",
    };
}
