using System.Threading.Channels;

namespace Portway.Agent.Inspector;

/// <summary>
/// The inspector's memory: the most recent exchanges, oldest dropped first when the ring is full
/// or the byte budget is spent (<see cref="InspectorOptions"/>), and the live subscribers (the
/// pages' event streams) told about each new entry.
/// </summary>
internal sealed class InspectorStore(InspectorOptions options)
{
    // A page that stops reading loses its oldest events rather than growing the agent; it
    // reloads the list when it reconnects.
    private const int SubscriberQueue = 256;

    private readonly Lock _gate = new();
    private readonly Queue<CapturedExchange> _entries = new();
    private readonly Dictionary<long, CapturedExchange> _byId = [];
    private readonly List<Channel<InspectorEvent>> _subscribers = [];
    private long _lastId;
    private long _keptBytes;

    public InspectorOptions Options => options;

    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>Gives the entry the next id, keeps it, drops what no longer fits, and tells subscribers.</summary>
    public CapturedExchange Add(CapturedExchange exchange)
    {
        lock (_gate)
        {
            var entry = exchange with { Id = ++_lastId };
            _entries.Enqueue(entry);
            _byId[entry.Id] = entry;
            _keptBytes += entry.KeptBytes;
            // The newest entry always stays, even when it alone is over the budget.
            while (_entries.Count > 1 && (_entries.Count > options.Capacity || _keptBytes > options.TotalBodyBytes))
            {
                var old = _entries.Dequeue();
                _byId.Remove(old.Id);
                _keptBytes -= old.KeptBytes;
            }
            foreach (var s in _subscribers) s.Writer.TryWrite(new InspectorEvent(entry));
            return entry;
        }
    }

    public CapturedExchange? Find(long id)
    {
        lock (_gate) return _byId.GetValueOrDefault(id);
    }

    /// <summary>All kept entries, newest first.</summary>
    public CapturedExchange[] Snapshot()
    {
        lock (_gate)
        {
            var all = _entries.ToArray();
            Array.Reverse(all);
            return all;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
            _byId.Clear();
            _keptBytes = 0;
            foreach (var s in _subscribers) s.Writer.TryWrite(new InspectorEvent(null));
        }
    }

    /// <summary>A live feed of new entries; dispose the result to stop it.</summary>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<InspectorEvent>(new BoundedChannelOptions(SubscriberQueue)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate) _subscribers.Add(channel);
        return new Subscription(this, channel);
    }

    internal sealed class Subscription(InspectorStore store, Channel<InspectorEvent> channel) : IDisposable
    {
        public ChannelReader<InspectorEvent> Reader => channel.Reader;

        public void Dispose()
        {
            lock (store._gate) store._subscribers.Remove(channel);
            channel.Writer.TryComplete();
        }
    }
}
