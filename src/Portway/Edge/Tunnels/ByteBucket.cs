namespace Portway.Edge.Tunnels;

/// <summary>
/// Shapes a byte stream to a rate (frp's bandwidth_limit): a token bucket holding one second's
/// worth, where a caller pays for its bytes and waits off any debt. Debts queue up in the order
/// they were taken, so concurrent streams share the rate. Hand-written rather than
/// System.Threading.RateLimiting's TokenBucketRateLimiter because that one refills from the
/// Stopwatch, and this must follow the edge's TimeProvider (FakeTimeProvider in tests); it is
/// the only timing it does.
/// </summary>
internal sealed class ByteBucket(long bytesPerSecond, TimeProvider time)
{
    private readonly Lock _gate = new();
    private double _tokens = bytesPerSecond;
    private long _last = time.GetTimestamp();

    public long BytesPerSecond => bytesPerSecond;

    /// <summary>Takes <paramref name="bytes"/>; completes at once while the bucket covers them, else once the debt is paid.</summary>
    public ValueTask PayAsync(int bytes, CancellationToken cancellationToken)
    {
        if (bytes <= 0) return ValueTask.CompletedTask;
        TimeSpan wait;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(bytesPerSecond, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * bytesPerSecond);
            _last = now;
            _tokens -= bytes;
            if (_tokens >= 0) return ValueTask.CompletedTask;
            wait = TimeSpan.FromSeconds(-_tokens / bytesPerSecond);
        }
        return new ValueTask(Task.Delay(wait, time, cancellationToken));
    }
}
