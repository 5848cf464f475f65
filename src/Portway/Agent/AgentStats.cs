namespace Portway.Agent;

/// <summary>
/// ngrok-style counters for the status screen: connections (total, open), request rate over the
/// last 1 and 5 minutes, and latency percentiles over the last 1,024 requests.
/// </summary>
internal sealed class AgentStats : IRequestObserver
{
    private const int Window = 1024;
    private readonly Lock _gate = new();
    private readonly double[] _latenciesMs = new double[Window];
    private readonly Queue<long> _recentStarts = new();
    private readonly Queue<ObservedRequest> _recent = new();
    private long _total;
    private int _open;
    private int _filled, _next;

    public long Total => Interlocked.Read(ref _total);
    public int Open => Volatile.Read(ref _open);

    public void Started() => Interlocked.Increment(ref _open);

    public void OnCompleted(ObservedRequest request)
    {
        Interlocked.Decrement(ref _open);
        Interlocked.Increment(ref _total);
        var now = Environment.TickCount64;
        lock (_gate)
        {
            _latenciesMs[_next] = request.Duration.TotalMilliseconds;
            _next = (_next + 1) % Window;
            if (_filled < Window) _filled++;
            _recentStarts.Enqueue(now);
            while (_recentStarts.Count > 0 && now - _recentStarts.Peek() > 300_000) _recentStarts.Dequeue();
            _recent.Enqueue(request);
            while (_recent.Count > 50) _recent.Dequeue();
        }
    }

    /// <summary>Requests per second averaged over the last <paramref name="minutes"/> minutes.</summary>
    public double Rate(int minutes)
    {
        var now = Environment.TickCount64;
        var n = 0;
        lock (_gate)
        {
            foreach (var t in _recentStarts)
            {
                if (now - t <= minutes * 60_000) n++;
            }
        }
        return n / (minutes * 60.0);
    }

    public double PercentileMs(double p)
    {
        double[] copy;
        lock (_gate) copy = _latenciesMs[.._filled];
        if (copy.Length == 0) return 0;
        Array.Sort(copy);
        return copy[Math.Min(copy.Length - 1, (int)(p * copy.Length))];
    }

    public IReadOnlyList<ObservedRequest> Recent
    {
        get { lock (_gate) return [.. _recent]; }
    }
}
