using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Portway.Edge.Caching;

internal enum FillMode
{
    /// <summary>Not decided yet: nothing has been written.</summary>
    Undecided,
    /// <summary>Not stored: bytes go straight to the client.</summary>
    PassThrough,
    /// <summary>Streamed to the client and copied into the cache as it passes.</summary>
    Tee,
    /// <summary>Held back from the client (a 304 or an error the cache answers for from a stored response).</summary>
    Swallow,
}

/// <summary>Decides, when the origin's status and headers are known, what happens to the body.</summary>
internal interface IFillOwner
{
    FillMode Decide(CacheFill fill);
}

/// <summary>
/// Wraps the response body while YARP copies the origin's response: the first write (or the end
/// of the exchange) asks the owner what to do with it, before anything reaches the client, so the
/// owner can still add Cache-Status or answer from the cache instead. Stored bytes go into
/// 64 KiB segments that become the entry's body, each reserved against the budget before it is
/// allocated; past the object limit the copy is dropped and the rest passes through, so memory
/// never holds more than <see cref="MaxBytes"/> of one response.
/// </summary>
internal sealed class CacheFill(IHttpResponseBodyFeature inner, IFillOwner owner, CacheStore store, long maxBytes) : Stream, IHttpResponseBodyFeature
{
    private const int SegmentSize = 64 * 1024;
    /// <summary>
    /// With a known Content-Length, up to this much is stored in one array, so a hit is one write
    /// (one flush, one send) to the client; bench/cache.sh's 100 KB hit otherwise took two.
    /// </summary>
    private const int MaxSingleSegment = 1024 * 1024;
    private readonly List<byte[]> _segments = [];
    private PipeWriter? _writer;
    private byte[]? _current;
    private int _currentUsed;
    private long _reserved;

    public FillMode Mode { get; private set; }
    public long MaxBytes => maxBytes;
    public long Length64 { get; private set; }
    /// <summary>Content-Length of the origin's response when known, to size the first segment.</summary>
    public long? ExpectedLength { get; set; }
    public bool Overflowed { get; private set; }
    public long Reserved => _reserved;
    public IHttpResponseBodyFeature Inner => inner;

    public FillMode EnsureDecided()
    {
        if (Mode == FillMode.Undecided) Mode = owner.Decide(this);
        return Mode;
    }

    /// <summary>The stored body; ownership of the reservation passes to the caller.</summary>
    public byte[][] TakeBody()
    {
        if (_current is not null && _currentUsed > 0)
        {
            if (_currentUsed < _current.Length) Array.Resize(ref _current, _currentUsed);
            _segments.Add(_current);
        }
        _current = null;
        return _segments.ToArray();
    }

    /// <summary>Drops what was copied and gives the reservation back.</summary>
    public void Abandon()
    {
        _segments.Clear();
        _current = null;
        if (_reserved > 0) store.Release(_reserved);
        _reserved = 0;
        if (Mode == FillMode.Tee) Mode = FillMode.PassThrough;
    }

    public void ForgetReservation() => _reserved = 0;

    private void Copy(ReadOnlySpan<byte> data)
    {
        if (Mode != FillMode.Tee) return;
        if (Length64 + data.Length > maxBytes)
        {
            Overflowed = true;
            Abandon();
            return;
        }
        while (data.Length > 0)
        {
            if (_current is null || _currentUsed == _current.Length)
            {
                if (_current is not null) _segments.Add(_current);
                var size = SegmentSize;
                if (ExpectedLength is { } expected)
                {
                    var left = expected - Length64;
                    if (left <= MaxSingleSegment) size = (int)Math.Max(left, data.Length);
                }
                if (!store.TryReserve(size))
                {
                    Abandon();
                    return;
                }
                _reserved += size;
                _current = new byte[size];
                _currentUsed = 0;
            }
            var n = Math.Min(data.Length, _current.Length - _currentUsed);
            data[..n].CopyTo(_current.AsSpan(_currentUsed));
            _currentUsed += n;
            Length64 += n;
            data = data[n..];
        }
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) =>
        EnsureDecided() == FillMode.Swallow ? Task.CompletedTask : inner.StartAsync(cancellationToken);

    public async Task CompleteAsync()
    {
        if (_writer is not null) await _writer.FlushAsync();
        if (EnsureDecided() != FillMode.Swallow) await inner.CompleteAsync();
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        // YARP never sends files; anything that does is not cached.
        if (EnsureDecided() == FillMode.Tee) Abandon();
        return Mode == FillMode.Swallow ? Task.CompletedTask : inner.SendFileAsync(path, offset, count, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (EnsureDecided() == FillMode.Swallow) return;
        Copy(buffer);
        inner.Stream.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (EnsureDecided() == FillMode.Swallow) return ValueTask.CompletedTask;
        Copy(buffer.Span);
        return inner.Stream.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        EnsureDecided() == FillMode.Swallow ? Task.CompletedTask : inner.Stream.FlushAsync(cancellationToken);

    public override void Flush()
    {
        if (EnsureDecided() != FillMode.Swallow) inner.Stream.Flush();
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
