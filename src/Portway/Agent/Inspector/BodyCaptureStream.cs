namespace Portway.Agent.Inspector;

/// <summary>
/// Passes a body through unchanged and keeps a copy of its first bytes: reads are copied for a
/// request body, writes for a response body. Bytes past the limit are only counted, so a 100 MB
/// download costs one 1 MiB copy, and the stream never buffers or delays what it passes on.
/// </summary>
internal sealed class BodyCaptureStream(Stream inner, int limit) : Stream
{
    private readonly Lock _gate = new();
    private byte[] _kept = [];
    private int _keptLength;
    private long _size;

    /// <summary>What passed so far; safe to call while the body is still flowing.</summary>
    public CapturedBody Snapshot()
    {
        lock (_gate)
        {
            if (_size == 0) return CapturedBody.Empty;
            // A full buffer is never written again (more bytes would go to a new, larger one), so it can be shared.
            return new CapturedBody(_keptLength == _kept.Length ? _kept : _kept.AsSpan(0, _keptLength).ToArray(), _size);
        }
    }

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        lock (_gate)
        {
            _size += data.Length;
            var take = Math.Min(data.Length, limit - _keptLength);
            if (take <= 0) return;
            if (_keptLength + take > _kept.Length)
            {
                // The first write sizes the buffer exactly (most bodies are one write); later ones
                // double it, so a large body is copied O(log n) times.
                var grown = new byte[Math.Min(limit, Math.Max(_kept.Length * 2, _keptLength + take))];
                _kept.AsSpan(0, _keptLength).CopyTo(grown);
                _kept = grown;
            }
            data[..take].CopyTo(_kept.AsSpan(_keptLength));
            _keptLength += take;
        }
    }

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Keep(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Keep(buffer.Span[..n]);
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Keep(buffer);
        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Keep(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
