namespace Portway.Edge.Retries;

/// <summary>
/// Caps one cluster's retries at a share of its recent requests so that retries cannot multiply
/// an outage: when every destination fails, N attempts per request would otherwise send N times
/// the traffic to servers that are already struggling. The design is Finagle's RetryBudget (also
/// Linkerd's): over a sliding window of <see cref="Window"/>, retries ≤ <see cref="MinPerSecond"/>
/// × window + budget_percent × requests. The minimum lets a quiet cluster (a few requests a minute)
/// still retry a single unlucky connection.
/// </summary>
internal sealed class RetryBudget
{
    /// <summary>Finagle's RetryBudget ttl: 10 seconds.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>Finagle's minRetriesPerSec: 10.</summary>
    public const int MinPerSecond = 10;

    private const int Buckets = 10;
    private readonly TimeProvider _time;
    private readonly long _bucketTicks;
    private readonly long[] _stamps = new long[Buckets];
    private readonly long[] _requests = new long[Buckets];
    private readonly long[] _retries = new long[Buckets];
    private readonly Lock _rotate = new();
    private int _exhausted;

    public RetryBudget(TimeProvider time)
    {
        _time = time;
        _bucketTicks = (long)(time.TimestampFrequency * Window.TotalSeconds / Buckets);
        Array.Fill(_stamps, long.MinValue / 4); // far outside any window, without overflow in the subtraction
    }

    /// <summary>Counts one request (not retries) toward the budget.</summary>
    public void Deposit() => Interlocked.Increment(ref _requests[Current()]);

    /// <summary>Takes one retry from the budget; false when the cluster has retried its share.</summary>
    public bool TryWithdraw(double percent)
    {
        var index = Current();
        var now = Volatile.Read(ref _stamps[index]);
        long requests = 0, retries = 0;
        for (var i = 0; i < Buckets; i++)
        {
            // Only buckets inside the window count; stale ones are reset lazily when reused.
            if (now - Volatile.Read(ref _stamps[i]) >= Buckets) continue;
            requests += Volatile.Read(ref _requests[i]);
            retries += Volatile.Read(ref _retries[i]);
        }
        var allowed = (long)MinPerSecond * (long)Window.TotalSeconds + (long)(requests * percent / 100);
        if (retries >= allowed)
        {
            Interlocked.CompareExchange(ref _exhausted, 1, 0);
            return false;
        }
        Interlocked.Increment(ref _retries[index]);
        Volatile.Write(ref _exhausted, 0);
        return true;
    }

    /// <summary>True for the first refusal after retries were allowed (so the log says it once, not per request).</summary>
    public bool JustExhausted() => Interlocked.CompareExchange(ref _exhausted, 2, 1) == 1;

    private int Current()
    {
        var bucket = _time.GetTimestamp() / _bucketTicks;
        var index = (int)(bucket % Buckets);
        if (Volatile.Read(ref _stamps[index]) != bucket)
        {
            lock (_rotate)
            {
                if (_stamps[index] != bucket)
                {
                    Volatile.Write(ref _requests[index], 0);
                    Volatile.Write(ref _retries[index], 0);
                    Volatile.Write(ref _stamps[index], bucket);
                }
            }
        }
        return index;
    }
}
