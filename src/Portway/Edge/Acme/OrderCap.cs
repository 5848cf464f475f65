namespace Portway.Edge.Acme;

/// <summary>
/// At most N new orders in any hour (a sliding window of the last N order times), Caddy's
/// on-demand rate limit: a burst of new tunnel names waits for a slot instead of spending the
/// CA's limits. Used from the ACME manager's single loop only, so no locking.
/// </summary>
internal sealed class OrderCap(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private readonly Queue<DateTimeOffset> _orders = new();

    /// <summary>Takes a slot now, or says when the next one frees up.</summary>
    public bool TryTake(int perHour, out DateTimeOffset nextSlot)
    {
        var now = time.GetUtcNow();
        while (_orders.Count > 0 && now - _orders.Peek() >= Window) _orders.Dequeue();
        while (_orders.Count > perHour) _orders.Dequeue(); // the cap was lowered by a reload
        if (_orders.Count < perHour)
        {
            _orders.Enqueue(now);
            nextSlot = now;
            return true;
        }
        nextSlot = _orders.Peek() + Window;
        return false;
    }
}
