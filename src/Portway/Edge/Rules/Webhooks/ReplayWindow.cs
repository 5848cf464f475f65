namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Deliveries seen within the tolerance, each forgotten once the tolerance has passed. Only
/// verified deliveries enter, so nobody without the secret can fill it; still bounded, and when
/// full the oldest entry goes first. Entries are added in time order, so the queue's head is
/// always the next to expire.
/// </summary>
internal sealed class ReplayWindow(TimeSpan tolerance, int capacity)
{
    private readonly Dictionary<string, long> _expiry = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, long Expiry)> _order = new();
    private readonly Lock _lock = new();

    /// <summary>False when <paramref name="key"/> was seen and not yet forgotten.</summary>
    public bool TryAdd(string key, DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        lock (_lock)
        {
            while (_order.TryPeek(out var head) && (head.Expiry <= ticks || _order.Count >= capacity))
            {
                _order.Dequeue();
                // Forget() or a re-add may have changed the entry since this queue item was written.
                if (_expiry.TryGetValue(head.Key, out var e) && e == head.Expiry) _expiry.Remove(head.Key);
            }
            if (_expiry.TryGetValue(key, out var expiry) && expiry > ticks) return false;
            var until = ticks + tolerance.Ticks;
            _expiry[key] = until;
            _order.Enqueue((key, until));
            return true;
        }
    }

    /// <summary>A delivery the server did not accept: the provider will retry it, and the retry must pass.</summary>
    public void Forget(string key)
    {
        lock (_lock) _expiry.Remove(key);
    }
}
