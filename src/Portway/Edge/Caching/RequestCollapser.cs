using System.Collections.Concurrent;

namespace Portway.Edge.Caching;

/// <summary>
/// Request collapsing (nginx's proxy_cache_lock, Varnish's waiting list): the first miss for a
/// key goes to the origin; later ones wait, bounded by cache.lock_timeout, then look again.
/// </summary>
internal sealed class RequestCollapser
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _inFlight = new(StringComparer.Ordinal);
    private int _waiting;

    /// <summary>Requests currently waiting for another request's fill (tests wait on this).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>True when the caller leads the fill for <paramref name="key"/>; else <paramref name="wait"/> completes when the leader is done.</summary>
    public bool TryLead(string key, out Task wait)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = _inFlight.GetOrAdd(key, mine);
        wait = current.Task;
        return current == mine;
    }

    public bool IsInFlight(string key) => _inFlight.ContainsKey(key);

    public void Done(string key)
    {
        if (_inFlight.TryRemove(key, out var tcs)) tcs.TrySetResult();
    }

    public async Task<bool> WaitAsync(Task wait, TimeSpan timeout, CancellationToken cancel)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await wait.WaitAsync(timeout, cancel);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }
}
