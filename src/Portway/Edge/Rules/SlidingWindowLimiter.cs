using System.Threading.RateLimiting;

namespace Portway.Edge.Rules;

/// <summary>
/// rate_limit's sliding window: permits counted per segment (window / segments), each segment's
/// count given back when it leaves the window — SlidingWindowRateLimiter's algorithm, on the
/// edge's <see cref="TimeProvider"/>. That class slides only from a timer and only when a
/// Stopwatch says a segment has passed, so no other clock can move it (TimeProvider support is an
/// open proposal, dotnet/runtime#106447) and a test could only wait for real segments to pass.
/// This one slides when asked: before every acquire and every look at its state, by as many
/// segments as the clock says have ended, so no timer is needed and a segment ends on time rather
/// than at the partitioned limiter's next 100 ms tick. Never queues (rate_limit's QueueLimit is 0).
/// </summary>
internal sealed class SlidingWindowLimiter(int permitLimit, TimeSpan window, int segments, TimeProvider time) : RateLimiter
{
    private static readonly RateLimitLease Acquired = new Lease(true);
    private static readonly RateLimitLease Refused = new Lease(false);

    private readonly Lock _lock = new();
    private readonly int[] _counts = new int[segments];
    private readonly long _start = time.GetTimestamp();
    private readonly long _segmentTicks = Math.Max(1, window.Ticks / segments);
    private long _segment;
    private long _lastAcquired = -1;
    private int _inWindow;
    private long _successful;
    private long _failed;

    /// <summary>How long every permit has been free: what the partitioned limiter drops idle limiters by.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                var now = Slide();
                if (_inWindow > 0) return null;
                var freeSince = _lastAcquired < 0 ? 0 : (_lastAcquired + segments) * _segmentTicks;
                return TimeSpan.FromTicks(Math.Max(0, now - freeSince));
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            Slide();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = permitLimit - _inWindow,
                TotalSuccessfulLeases = _successful,
                TotalFailedLeases = _failed,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, permitLimit);
        lock (_lock)
        {
            Slide();
            if (permitLimit - _inWindow < Math.Max(1, permitCount))
            {
                if (permitCount > 0) _failed++;
                return Refused;
            }
            if (permitCount == 0) return Acquired;
            _counts[_segment % segments] += permitCount;
            _inWindow += permitCount;
            _lastAcquired = _segment;
            _successful++;
            return Acquired;
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    /// <summary>
    /// Moves to the segment the clock is in, giving back the counts of the segments that left the
    /// window on the way (all of them after a whole window); returns the ticks since creation.
    /// Segment s counts in slot s % segments, so entering s frees what segment s − segments held.
    /// </summary>
    private long Slide()
    {
        var elapsed = time.GetElapsedTime(_start).Ticks;
        var current = elapsed / _segmentTicks;
        if (current - _segment >= segments)
        {
            Array.Clear(_counts);
            _inWindow = 0;
        }
        else
        {
            for (var s = _segment + 1; s <= current; s++)
            {
                _inWindow -= _counts[s % segments];
                _counts[s % segments] = 0;
            }
        }
        _segment = Math.Max(_segment, current);
        return elapsed;
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
