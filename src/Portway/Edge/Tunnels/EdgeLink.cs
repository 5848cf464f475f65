using Microsoft.AspNetCore.Http;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// One link from an agent, seen from the edge. It starts as a spare in standby: a loop owns the
/// only read, pings every <see cref="LinkProtocol.StandbyPingInterval"/> and notices EOF at once,
/// so a dead agent never leaves a dead spare in the queue (a pitfall the prototype met). When a
/// request needs it, <see cref="ActivateAsync"/> switches it to HTTP/2 and the stream is handed to
/// the edge's HTTP/2 client, which then owns every read and write. Disposed exactly once, by
/// whoever finishes with it first; disposal aborts the underlying connection and frees the slot.
/// </summary>
internal sealed class EdgeLink : Protocol.DelegatingStream
{
    private readonly HttpContext _context;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _activationRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _activated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TunnelTokenLimits? _limits;
    private int _disposed;

    /// <param name="limits">tokens[].limits: the token's bandwidth shapes the link's HTTP/2 traffic once activated; null = unshaped.</param>
    public EdgeLink(Stream inner, HttpContext context, TunnelSession session, TimeProvider time, TunnelTokenLimits? limits = null) : base(inner)
    {
        _context = context;
        _time = time;
        _limits = limits;
        Session = session;
    }

    // Once activated, the edge's HTTP/2 client owns these calls. Shaping here covers everything the
    // token's tunnels carry, HTTP and TCP alike, framing included, in one place. The limiter is
    // looked up per call so a reload that changes the bandwidth applies to links already open.
    // Without a bandwidth limit a call passes straight through, as before: no async frame.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _limits?.For(Session.TokenName)?.FromAgent is { } bucket ? ShapedReadAsync(buffer, bucket, cancellationToken) : Inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _limits?.For(Session.TokenName)?.FromAgent is { } bucket
            ? ShapedReadAsync(buffer.AsMemory(offset, count), bucket, cancellationToken).AsTask()
            : Inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _limits?.For(Session.TokenName)?.ToAgent is { } bucket ? ShapedWriteAsync(buffer, bucket, cancellationToken) : Inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _limits?.For(Session.TokenName)?.ToAgent is { } bucket
            ? ShapedWriteAsync(buffer.AsMemory(offset, count), bucket, cancellationToken).AsTask()
            : Inner.WriteAsync(buffer, offset, count, cancellationToken);

    /// <summary>Pays after the bytes arrived (their count is known only then): the next read waits off the debt.</summary>
    private async ValueTask<int> ShapedReadAsync(Memory<byte> buffer, ByteBucket bucket, CancellationToken cancellationToken)
    {
        var n = await Inner.ReadAsync(buffer, cancellationToken);
        await bucket.PayAsync(n, cancellationToken);
        return n;
    }

    private async ValueTask ShapedWriteAsync(ReadOnlyMemory<byte> buffer, ByteBucket bucket, CancellationToken cancellationToken)
    {
        await bucket.PayAsync(buffer.Length, cancellationToken);
        await Inner.WriteAsync(buffer, cancellationToken);
    }

    public TunnelSession Session { get; }

    /// <summary>Completes when the link is closed (by either side).</summary>
    public Task Closed => _closed.Task;

    public bool IsClosed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Runs the standby protocol until the link is activated or found dead.</summary>
    public async Task RunStandbyAsync()
    {
        // Separate buffers: the pending read may complete while a ping or Activate is written.
        var rx = new byte[1];
        var tx = new byte[1];
        try
        {
            var read = Inner.ReadAsync(rx).AsTask();
            // A ping not answered by the next tick means the agent is gone: dead within two intervals (10 s).
            var awaitingPong = false;
            var interval = LinkProtocol.StandbyPingInterval;
            while (true)
            {
                using var delayCts = new CancellationTokenSource();
                var delay = Task.Delay(interval, _time, delayCts.Token);
                var winner = await Task.WhenAny(read, delay, _activationRequested.Task);
                delayCts.Cancel();
                if (winner == read)
                {
                    if (await read == 0) break; // the agent went away
                    if (rx[0] != LinkProtocol.Ping) break; // protocol violation: only pongs are expected in standby
                    awaitingPong = false;
                    read = Inner.ReadAsync(rx).AsTask();
                    continue;
                }
                if (winner == _activationRequested.Task)
                {
                    tx[0] = LinkProtocol.Activate;
                    await Inner.WriteAsync(tx);
                    await Inner.FlushAsync();
                    // Pongs may still be in flight; the agent's answer to Activate is the last standby byte.
                    using var timeout = new CancellationTokenSource(ActivationTimeout, _time);
                    var answered = false;
                    while (!answered)
                    {
                        var n = await read.WaitAsync(timeout.Token);
                        if (n == 0) break;
                        if (rx[0] == LinkProtocol.Activate) answered = true;
                        else read = Inner.ReadAsync(rx).AsTask();
                    }
                    if (!answered) break;
                    _activated.TrySetResult(true);
                    return;
                }
                if (awaitingPong) break; // the last ping went unanswered for a whole interval
                tx[0] = LinkProtocol.Ping;
                await Inner.WriteAsync(tx);
                await Inner.FlushAsync();
                awaitingPong = true;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
        }
        _activated.TrySetResult(false);
        Dispose();
    }

    /// <summary>Bound on the agent's answer to Activate; a spare that cannot answer in time is dropped and the next one tried.</summary>
    public static readonly TimeSpan ActivationTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Asks the standby loop to switch the link to HTTP/2; true when the agent confirmed.</summary>
    public Task<bool> ActivateAsync()
    {
        _activationRequested.TrySetResult();
        return _activated.Task;
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _activationRequested.TrySetResult();
        _activated.TrySetResult(false);
        // Aborting the request closes the TCP connection now, so the agent learns at once.
        try
        {
            _context.Abort();
        }
        catch (ObjectDisposedException)
        {
        }
        try
        {
            Inner.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
        _closed.TrySetResult();
        Session.OnLinkClosed(this);
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }
}
