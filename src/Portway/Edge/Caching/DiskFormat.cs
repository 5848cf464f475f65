using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Primitives;

namespace Portway.Edge.Caching;

/// <summary>
/// File layout of a disk-tier entry: "PWC1", a little-endian int32 metadata length, the metadata
/// (key, status, headers, vary, tags, freshness; BinaryWriter strings), then the body. The
/// start-up scan reads only the metadata.
/// </summary>
internal static class DiskFormat
{
    private const int Magic = 0x31435750; // "PWC1"

    public static async Task WriteAsync(Stream stream, CacheEntry entry)
    {
        using var meta = new MemoryStream();
        using (var w = new BinaryWriter(meta, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(entry.Key);
            w.Write(entry.Status);
            w.Write(entry.Headers.Length);
            foreach (var h in entry.Headers)
            {
                w.Write(h.Key);
                w.Write(h.Value.Count);
                foreach (var v in h.Value) w.Write(v ?? "");
            }
            WriteStrings(w, entry.VaryNames);
            w.Write(entry.VaryValues?.Length ?? -1);
            if (entry.VaryValues is not null)
            {
                foreach (var v in entry.VaryValues)
                {
                    w.Write(v is not null);
                    if (v is not null) w.Write(v);
                }
            }
            WriteStrings(w, entry.Tags);
            var f = entry.Freshness;
            w.Write(f.ResponseTime.UtcTicks);
            w.Write(f.InitialAge.Ticks);
            w.Write(f.Lifetime.Ticks);
            w.Write(f.StaleWhileRevalidate.Ticks);
            w.Write(f.StaleIfError.Ticks);
            w.Write((byte)((f.NoCache ? 1 : 0) | (f.MustRevalidate ? 2 : 0) | (f.Immutable ? 4 : 0) | (f.Authorized ? 8 : 0)));
            w.Write(entry.BodyLength);
        }
        var head = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(head, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(4), (int)meta.Length);
        await stream.WriteAsync(head);
        await stream.WriteAsync(meta.GetBuffer().AsMemory(0, (int)meta.Length));
        foreach (var segment in entry.Body) await stream.WriteAsync(segment);
    }

    /// <summary>Reads an entry; without the body, an entry with an empty body stands for the index. Null when the file is not ours.</summary>
    public static async Task<CacheEntry?> ReadAsync(Stream stream, bool withBody)
    {
        var head = new byte[8];
        await stream.ReadExactlyAsync(head);
        if (BinaryPrimitives.ReadInt32LittleEndian(head) != Magic) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(4));
        if (length is <= 0 or > 16 * 1024 * 1024) throw new InvalidDataException("bad metadata length");
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await stream.ReadExactlyAsync(buffer.AsMemory(0, length));
            using var r = new BinaryReader(new MemoryStream(buffer, 0, length), System.Text.Encoding.UTF8);
            var key = r.ReadString();
            var status = r.ReadInt32();
            var headers = new KeyValuePair<string, StringValues>[r.ReadInt32()];
            for (var i = 0; i < headers.Length; i++)
            {
                var name = r.ReadString();
                var values = new string[r.ReadInt32()];
                for (var j = 0; j < values.Length; j++) values[j] = r.ReadString();
                headers[i] = new(name, values.Length == 1 ? new StringValues(values[0]) : new StringValues(values));
            }
            var varyNames = ReadStrings(r);
            var n = r.ReadInt32();
            string?[]? varyValues = null;
            if (n >= 0)
            {
                varyValues = new string?[n];
                for (var i = 0; i < n; i++) varyValues[i] = r.ReadBoolean() ? r.ReadString() : null;
            }
            var tags = ReadStrings(r);
            var freshness = new Freshness
            {
                ResponseTime = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero),
                InitialAge = TimeSpan.FromTicks(r.ReadInt64()),
                Lifetime = TimeSpan.FromTicks(r.ReadInt64()),
                StaleWhileRevalidate = TimeSpan.FromTicks(r.ReadInt64()),
                StaleIfError = TimeSpan.FromTicks(r.ReadInt64()),
            };
            var flags = r.ReadByte();
            freshness = freshness with { NoCache = (flags & 1) != 0, MustRevalidate = (flags & 2) != 0, Immutable = (flags & 4) != 0, Authorized = (flags & 8) != 0 };
            var bodyLength = r.ReadInt64();
            if (!withBody) return new CacheEntry(key, status, headers, [], 0, freshness, varyNames, varyValues, tags);

            var segments = new List<byte[]>();
            var left = bodyLength;
            while (left > 0)
            {
                var segment = new byte[(int)Math.Min(left, 64 * 1024)];
                await stream.ReadExactlyAsync(segment);
                segments.Add(segment);
                left -= segment.Length;
            }
            return new CacheEntry(key, status, headers, segments.ToArray(), bodyLength, freshness, varyNames, varyValues, tags);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WriteStrings(BinaryWriter w, string[]? values)
    {
        w.Write(values?.Length ?? -1);
        if (values is null) return;
        foreach (var v in values) w.Write(v);
    }

    private static string[]? ReadStrings(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0) return null;
        var values = new string[n];
        for (var i = 0; i < n; i++) values[i] = r.ReadString();
        return values;
    }
}
