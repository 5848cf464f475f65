namespace Portway.Edge.Rules;

/// <summary>
/// The state of one circuit breaker (closed → open → half-open → closed or open again), shared by
/// every request through the place its rule is written. A lock guards it: each request takes it
/// once to enter and once to report, for a few counter updates, never across an await.
/// </summary>
internal sealed class CircuitBreaker(CircuitBreakerRule.Config config)
{
    /// <summary>
    /// The window is kept as ten buckets, each a tenth of it (Hystrix's rolling window): outcomes
    /// older than the window drop out a tenth at a time, without a timestamp per request.
    /// </summary>
    private const int Buckets = 10;

    private readonly Lock _gate = new();
    private readonly long[] _bucketStart = new long[Buckets];
    private readonly int[] _total = new int[Buckets];
    private readonly int[] _failed = new int[Buckets];
    private CircuitState _state = CircuitState.Closed;
    private long _openedAt;
    private int _probesLeft;
    private int _probesPending;
    private long _origin;
    private bool _started;

    /// <summary>What <see cref="Enter"/> decided for a request.</summary>
    internal enum Admission
    {
        Pass,
        /// <summary>Half-open: this request is one of the probes.</summary>
        Probe,
        Reject,
    }

    /// <summary>For a request: pass, pass as a probe, or reject (then <paramref name="retryAfter"/> says for how long).</summary>
    public Admission Enter(TimeProvider time, out TimeSpan retryAfter, out Transition transition)
    {
        transition = default;
        retryAfter = TimeSpan.Zero;
        lock (_gate)
        {
            if (_state == CircuitState.Closed) return Admission.Pass;
            var now = time.GetTimestamp();
            if (_state == CircuitState.Open)
            {
                var openFor = time.GetElapsedTime(_openedAt, now);
                if (openFor < config.OpenFor)
                {
                    retryAfter = config.OpenFor - openFor;
                    return Admission.Reject;
                }
                _state = CircuitState.HalfOpen;
                _probesLeft = config.HalfOpenRequests;
                _probesPending = config.HalfOpenRequests;
                transition = new Transition(CircuitState.HalfOpen, 0, 0);
            }
            if (_probesLeft == 0)
            {
                // Probes are out: everyone else waits for their verdict, which comes within one response.
                retryAfter = TimeSpan.FromSeconds(1);
                return Admission.Reject;
            }
            _probesLeft--;
            return Admission.Probe;
        }
    }

    /// <summary>
    /// The outcome of a request <see cref="Enter"/> let through: <paramref name="failed"/>, or null
    /// when it says nothing about the servers (not forwarded, the client went away).
    /// </summary>
    public Transition Report(TimeProvider time, Admission admission, bool? failed)
    {
        lock (_gate)
        {
            if (admission == Admission.Probe) return ReportProbe(time, failed);
            // A request let through while closed may finish after the breaker opened: its outcome
            // belongs to the closed window, which opening cleared.
            if (_state != CircuitState.Closed || failed is null) return default;
            var slice = SliceOf(time);
            var index = Current(slice);
            _total[index]++;
            if (failed.Value) _failed[index]++;
            if (!failed.Value) return default;
            var (total, failures) = Sum(slice);
            if (total < config.MinRequests || failures < config.ErrorRatio * total) return default;
            Open(time.GetTimestamp());
            return new Transition(CircuitState.Open, failures, total);
        }
    }

    private Transition ReportProbe(TimeProvider time, bool? failed)
    {
        // A probe of an earlier half-open round (the breaker re-opened meanwhile) decides nothing.
        if (_state != CircuitState.HalfOpen) return default;
        if (failed is null)
        {
            // Not a verdict: give the slot back so another request can probe.
            _probesLeft++;
            return default;
        }
        if (failed.Value)
        {
            Open(time.GetTimestamp());
            return new Transition(CircuitState.Open, 1, config.HalfOpenRequests - _probesPending + 1);
        }
        if (--_probesPending > 0) return default;
        _state = CircuitState.Closed;
        Array.Clear(_total);
        Array.Clear(_failed);
        Array.Clear(_bucketStart);
        return new Transition(CircuitState.Closed, 0, config.HalfOpenRequests);
    }

    private void Open(long now)
    {
        _state = CircuitState.Open;
        _openedAt = now;
        _probesLeft = 0;
        _probesPending = 0;
    }

    /// <summary>The bucket for <paramref name="slice"/>, emptied first if it last held an older slice of time.</summary>
    private int Current(long slice)
    {
        var index = (int)(slice % Buckets);
        if (_bucketStart[index] != slice)
        {
            _bucketStart[index] = slice;
            _total[index] = 0;
            _failed[index] = 0;
        }
        return index;
    }

    private (int Total, int Failed) Sum(long slice)
    {
        int total = 0, failed = 0;
        for (var i = 0; i < Buckets; i++)
        {
            if (slice - _bucketStart[i] >= Buckets) continue;
            total += _total[i];
            failed += _failed[i];
        }
        return (total, failed);
    }

    /// <summary>
    /// Which tenth of a window <c>now</c> falls in, counted from the first outcome; offset by
    /// <see cref="Buckets"/> so that a never-used bucket (start 0) is always stale.
    /// </summary>
    private long SliceOf(TimeProvider time)
    {
        var now = time.GetTimestamp();
        if (!_started)
        {
            _origin = now;
            _started = true;
        }
        return Buckets + (long)(time.GetElapsedTime(_origin, now) / (config.Window / Buckets));
    }

    internal enum CircuitState
    {
        Closed,
        Open,
        HalfOpen,
    }

    /// <summary>A state change to log; <see cref="To"/> is null when nothing changed.</summary>
    internal readonly record struct Transition(CircuitState? To, int Failed, int Requests);
}
