using System.Collections.Immutable;
using System.Net;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// One agent process: its tunnels, and the links it has dialed. The edge's HTTP/2 client asks for
/// a link only when it opens a connection (<see cref="TakeLinkAsync"/>); the agent keeps one idle
/// spare so that never waits for a dial. A session with no links is offline: its destinations
/// leave the clusters at once and its names stay reserved for the reconnect grace period.
/// </summary>
internal sealed class TunnelSession
{
    private readonly Lock _gate = new();
    private readonly Queue<EdgeLink> _spares = new();
    private readonly HashSet<EdgeLink> _all = [];
    private readonly List<TaskCompletionSource<EdgeLink?>> _waiters = [];
    private readonly Action<TunnelSession, bool> _onlineChanged;
    private int _links;
    private bool _sparesClosed;

    public TunnelSession(string key, string agentId, string? tokenName, IPAddress? remote, Action<TunnelSession, bool> onlineChanged)
    {
        Key = key;
        AgentId = agentId;
        TokenName = tokenName;
        Remote = remote;
        _onlineChanged = onlineChanged;
    }

    /// <summary>Random id; the host of the session's destination address (see <see cref="TunnelConnector"/>).</summary>
    public string Key { get; }
    public string AgentId { get; }
    public string? TokenName { get; }
    public IPAddress? Remote { get; }
    public ImmutableArray<TunnelGrant> Grants { get; set; } = [];
    public ImmutableArray<string> NameKeys { get; set; } = [];
    public ImmutableArray<TunnelRequest> Requests { get; set; } = [];

    /// <summary>The link request that created the session: how its agent reached the edge, for its public URLs.</summary>
    public LinkRequest? Link { get; set; }

    /// <summary>Links attached or being attached (a link counts from its handshake, so the session is online before the 101 is sent).</summary>
    public int LinkCount
    {
        get { lock (_gate) return _links; }
    }

    public bool IsOnline => LinkCount > 0;

    /// <summary>When the session last went offline (for the grace period).</summary>
    public long OfflineSince { get; private set; }

    /// <summary>Counts a link that is being handshaken; <see cref="AddSpare"/> or <see cref="ReleaseReservation"/> follows.</summary>
    public void ReserveLink()
    {
        bool nowOnline;
        lock (_gate) nowOnline = ++_links == 1;
        if (nowOnline) _onlineChanged(this, true);
    }

    /// <summary>The upgrade failed before the link existed.</summary>
    public void ReleaseReservation() => Decrement();

    public void AddSpare(EdgeLink link)
    {
        TaskCompletionSource<EdgeLink?>? waiter = null;
        var close = false;
        lock (_gate)
        {
            _all.Add(link);
            if (_waiters.Count > 0)
            {
                waiter = _waiters[0];
                _waiters.RemoveAt(0);
            }
            else if (_sparesClosed) close = true; // handshaken during the drain: nothing will use it
            else _spares.Enqueue(link);
        }
        waiter?.TrySetResult(link);
        if (close) link.Dispose();
    }

    /// <summary>Called once per link, from its Dispose.</summary>
    public void OnLinkClosed(EdgeLink link)
    {
        lock (_gate) _all.Remove(link);
        Decrement();
    }

    private void Decrement()
    {
        bool nowOffline;
        List<TaskCompletionSource<EdgeLink?>>? waiters = null;
        lock (_gate)
        {
            nowOffline = --_links == 0;
            if (nowOffline)
            {
                OfflineSince = System.Diagnostics.Stopwatch.GetTimestamp();
                waiters = [.. _waiters];
                _waiters.Clear();
            }
        }
        if (waiters is not null)
        {
            foreach (var w in waiters) w.TrySetResult(null);
        }
        if (nowOffline) _onlineChanged(this, false);
    }

    /// <summary>
    /// A live link switched to HTTP/2, for the HTTP/2 client's ConnectCallback. Waits for the agent
    /// to dial one when no spare is idle; fails at once when the session is offline.
    /// </summary>
    public async ValueTask<EdgeLink> TakeLinkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            EdgeLink? link = null;
            Task<EdgeLink?>? wait = null;
            TaskCompletionSource<EdgeLink?>? waiter = null;
            lock (_gate)
            {
                if (_links == 0) throw new TunnelOfflineException();
                while (_spares.Count > 0 && link is null)
                {
                    var candidate = _spares.Dequeue();
                    if (!candidate.IsClosed) link = candidate;
                }
                if (link is null)
                {
                    waiter = new TaskCompletionSource<EdgeLink?>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _waiters.Add(waiter);
                    wait = waiter.Task;
                }
            }
            if (wait is not null)
            {
                try
                {
                    link = await wait.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    lock (_gate) _waiters.Remove(waiter!);
                    throw;
                }
                if (link is null) throw new TunnelOfflineException();
            }
            if (await link!.ActivateAsync()) return link;
            // That spare died between its last pong and now; it disposed itself. Try the next.
        }
    }

    /// <summary>
    /// Edge shutdown, first step: closes the idle spares (they carry no request and would hold
    /// shutdown) and any spare whose handshake ends later. Links the HTTP/2 client took stay open
    /// for the requests on them until <see cref="CloseAll"/>.
    /// </summary>
    public void CloseSpares()
    {
        EdgeLink[] spares;
        lock (_gate)
        {
            _sparesClosed = true;
            spares = [.. _spares];
            _spares.Clear();
        }
        foreach (var link in spares) link.Dispose();
    }

    /// <summary>Closes every link, spare or active (edge shutdown, or the session was removed).</summary>
    public void CloseAll()
    {
        EdgeLink[] all;
        lock (_gate)
        {
            all = [.. _all];
            _spares.Clear();
        }
        foreach (var link in all) link.Dispose();
    }
}
