namespace Portway.Edge.Tunnels;

/// <summary>
/// Counts visitor requests being forwarded over agent links, so edge shutdown can keep the links
/// open until those requests have their responses (see <see cref="TunnelShutdown"/>). Every step
/// that forwards to a tunnel destination wraps its forwarding in <see cref="Enter"/>:
/// <code>using var _ = drain.Enter(); await next();</code>
/// The cost per request is one interlocked increment and one decrement plus a plain read; no allocation.
/// </summary>
internal sealed class TunnelDrain
{
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _draining;

    /// <summary>Requests forwarded over a link right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Counts one forwarded request until the returned scope is disposed (exactly once).</summary>
    public Scope Enter()
    {
        Interlocked.Increment(ref _inFlight);
        return new Scope(this);
    }

    private void Exit()
    {
        // Both sides fence (this decrement, the exchange in WaitIdleAsync) before reading the other's
        // field, so either the last request sees the drain started or the drain sees zero in flight.
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _draining) != 0) _idle.TrySetResult();
    }

    /// <summary>
    /// Starts the drain and waits until no request is in flight: true when that happened, false
    /// when <paramref name="timeout"/> passed first. A request that starts while others are still
    /// in flight (the listeners stop accepting only after the drain begins) is waited for too; once
    /// the count has reached zero the drain is over.
    /// </summary>
    public async Task<bool> WaitIdleAsync(TimeSpan timeout, TimeProvider time)
    {
        Interlocked.Exchange(ref _draining, 1);
        if (Volatile.Read(ref _inFlight) == 0) return true;
        try
        {
            await _idle.Task.WaitAsync(timeout, time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>One counted request; a struct so counting allocates nothing.</summary>
    public readonly struct Scope(TunnelDrain drain) : IDisposable
    {
        public void Dispose() => drain?.Exit();
    }
}
