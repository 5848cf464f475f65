using System.Buffers;

namespace Portway.Edge.Tls;

/// <summary>
/// Reads just enough of a TLS ClientHello (RFC 8446 §4.1.2) to see whether the client offers the
/// ALPN protocol "acme-tls/1" (RFC 7301 §3.1, RFC 8737 §3). Only the first record is examined;
/// a ClientHello split over records is treated as "not offered", which is safe (the normal
/// certificate is served).
/// </summary>
internal static class ClientHelloParser
{
    private const byte HandshakeRecord = 22;
    private const byte ClientHelloType = 1;
    private const ushort AlpnExtension = 16;

    public static OperationStatus OffersAcmeTls(ReadOnlySequence<byte> buffer, out bool offers)
    {
        offers = false;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryRead(out var type)) return OperationStatus.NeedMoreData;
        if (type != HandshakeRecord) return OperationStatus.InvalidData;
        if (!reader.TryAdvance(2) || !reader.TryReadBigEndian(out short recordLength)) return OperationStatus.NeedMoreData;
        if (reader.Remaining < (ushort)recordLength) return OperationStatus.NeedMoreData;
        var record = new SequenceReader<byte>(buffer.Slice(reader.Position, (ushort)recordLength));

        if (!record.TryRead(out var hsType) || hsType != ClientHelloType) return OperationStatus.InvalidData;
        // 3-byte handshake length, 2-byte legacy_version, 32-byte random.
        if (!record.TryAdvance(3 + 2 + 32)) return OperationStatus.InvalidData;
        if (!SkipVector8(ref record)) return OperationStatus.InvalidData;     // legacy_session_id
        if (!SkipVector16(ref record)) return OperationStatus.InvalidData;    // cipher_suites
        if (!SkipVector8(ref record)) return OperationStatus.InvalidData;     // legacy_compression_methods
        if (record.Remaining == 0) return OperationStatus.Done;                // no extensions at all
        if (!record.TryReadBigEndian(out short extensionsLength)) return OperationStatus.InvalidData;
        var end = record.Consumed + (ushort)extensionsLength;
        while (record.Consumed < end)
        {
            if (!record.TryReadBigEndian(out short extType) || !record.TryReadBigEndian(out short extLength)) return OperationStatus.InvalidData;
            if ((ushort)extType != AlpnExtension)
            {
                if (!record.TryAdvance((ushort)extLength)) return OperationStatus.InvalidData;
                continue;
            }
            if (!record.TryReadBigEndian(out short listLength)) return OperationStatus.InvalidData;
            var listEnd = record.Consumed + (ushort)listLength;
            while (record.Consumed < listEnd)
            {
                if (!record.TryRead(out var nameLength)) return OperationStatus.InvalidData;
                if (record.Remaining < nameLength) return OperationStatus.InvalidData;
                var name = record.UnreadSequence.Slice(0, nameLength);
                if (nameLength == 10 && SequenceEquals(name, "acme-tls/1"u8)) offers = true;
                record.Advance(nameLength);
            }
            return OperationStatus.Done;
        }
        return OperationStatus.Done;
    }

    private static bool SkipVector8(ref SequenceReader<byte> r) => r.TryRead(out var n) && r.TryAdvance(n);

    private static bool SkipVector16(ref SequenceReader<byte> r) => r.TryReadBigEndian(out short n) && r.TryAdvance((ushort)n);

    private static bool SequenceEquals(ReadOnlySequence<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.IsSingleSegment) return a.FirstSpan.SequenceEqual(b);
        Span<byte> tmp = stackalloc byte[(int)a.Length];
        a.CopyTo(tmp);
        return tmp.SequenceEqual(b);
    }

    private static bool TryAdvance(this ref SequenceReader<byte> r, long count)
    {
        if (r.Remaining < count) return false;
        r.Advance(count);
        return true;
    }
}
