namespace Portway.Agent;

/// <summary>
/// Exponential back-off with jitter for reconnects: 0.5 s, 1 s, 2 s … capped at 30 s, each wait
/// scaled by a random 50–100% so agents cut off together do not all return in the same instant.
/// </summary>
internal sealed class Backoff(TimeSpan min, TimeSpan max)
{
    private int _attempt;

    public TimeSpan Next()
    {
        var attempt = Interlocked.Increment(ref _attempt) - 1;
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    public void Reset() => Interlocked.Exchange(ref _attempt, 0);
}
