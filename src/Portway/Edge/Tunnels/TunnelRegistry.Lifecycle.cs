using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

internal sealed partial class TunnelRegistry
{
    /// <summary>A session's first link arrived or its last one closed.</summary>
    private void OnOnlineChanged(TunnelSession session, bool online)
    {
        lock (_lock)
        {
            if (_graceTimers.Remove(session, out var timer)) timer.Dispose();
            if (!online && !_closed && _byAgent.TryGetValue(session.AgentId, out var current) && current == session)
            {
                LogSessionOffline(session.Key, _state.Current.Tunnels.ReconnectGrace.TotalSeconds);
                _graceTimers[session] = _time.CreateTimer(static s =>
                {
                    var (registry, expired) = ((TunnelRegistry, TunnelSession))s!;
                    registry.ExpireGrace(expired);
                }, (this, session), _state.Current.Tunnels.ReconnectGrace, Timeout.InfiniteTimeSpan);
            }
            PublishLocked();
        }
    }

    private void ExpireGrace(TunnelSession session)
    {
        lock (_lock)
        {
            if (_graceTimers.Remove(session, out var timer)) timer.Dispose();
            if (session.IsOnline) return;
            RemoveSessionLocked(session);
            PublishLocked();
        }
    }

    private void RemoveSessionLocked(TunnelSession session)
    {
        if (_byAgent.TryGetValue(session.AgentId, out var current) && current == session) _byAgent.Remove(session.AgentId);
        _connector.Sessions.TryRemove(session.Key, out _);
        if (_graceTimers.Remove(session, out var timer)) timer.Dispose();
        foreach (var key in session.NameKeys)
        {
            if (!_names.TryGetValue(key, out var entry)) continue;
            entry.Holders.Remove(session);
            if (entry.Holders.Count > 0) continue;
            _names.Remove(key);
            entry.Listener?.Dispose();
            if (entry.Kind == TunnelKind.Http)
            {
                ReleaseCertificates(entry.Name, _state.Current.Tunnels);
                _policies.Remove(entry.Name);
            }
            LogNameReleased(entry.Name);
        }
        session.CloseAll();
    }

    /// <summary>Publishes routes and clusters for every reserved HTTP name; online holders are the destinations.</summary>
    private void PublishLocked()
    {
        var entries = new List<NameEntry>(_names.Count);
        var online = new Dictionary<string, TunnelSession[]>(StringComparer.Ordinal);
        foreach (var entry in _names.Values)
        {
            if (entry.Kind != TunnelKind.Http) continue;
            entries.Add(entry);
            var sessions = entry.Holders.Where(h => h.IsOnline).ToArray();
            if (sessions.Length > 0) online[entry.Name] = sessions;
        }
        _connector.PublishOnline(online);
        _provider.Update(entries, _state.Current.Tunnels.Domains, _state.Current.Tunnels.Tokens);
    }

    /// <summary>An online session serving a TCP tunnel, round robin over the pool.</summary>
    public TunnelSession? PickSession(string entryKey)
    {
        lock (_lock)
        {
            if (!_names.TryGetValue(entryKey, out var entry)) return null;
            for (var i = 0; i < entry.Holders.Count; i++)
            {
                var candidate = entry.Holders[(int)((uint)entry.RoundRobin++ % (uint)entry.Holders.Count)];
                if (candidate.IsOnline) return candidate;
            }
            return null;
        }
    }

    /// <summary>For the not-found page: the name part when <paramref name="host"/> is under a tunnel domain.</summary>
    public string? TunnelNameOf(string host)
    {
        var colon = host.LastIndexOf(':');
        if (colon > 0 && host.IndexOf(']') < colon) host = host[..colon];
        foreach (var domain in _state.Current.Tunnels.Domains)
        {
            if (host.Length > domain.Length + 1 && host.EndsWith(domain, StringComparison.OrdinalIgnoreCase) && host[^(domain.Length + 1)] == '.')
            {
                var name = host[..^(domain.Length + 1)];
                if (name.IndexOf('.') < 0) return name.ToLowerInvariant();
            }
        }
        return null;
    }

    public int SessionCount
    {
        get { lock (_lock) return _byAgent.Count; }
    }

    /// <summary>
    /// Edge shutdown, first step: refuse new links, stop grace timers and TCP tunnel listeners, and
    /// close the idle spares; active links stay open for the HTTP requests in flight on them
    /// (<see cref="TunnelShutdown"/> closes them with <see cref="CloseAll"/> after the drain).
    /// TCP tunnel streams end with their listener: they are long-lived and would hold every drain.
    /// </summary>
    public int BeginDrain()
    {
        TunnelSession[] sessions;
        lock (_lock)
        {
            sessions = StopLocked();
        }
        var active = 0;
        foreach (var s in sessions)
        {
            s.CloseSpares();
            active += s.LinkCount;
        }
        return active;
    }

    /// <summary>Edge shutdown, last step (or disposal): every link, spare or active.</summary>
    public void CloseAll()
    {
        TunnelSession[] sessions;
        lock (_lock)
        {
            sessions = StopLocked();
        }
        foreach (var s in sessions) s.CloseAll();
    }

    private TunnelSession[] StopLocked()
    {
        _closed = true;
        foreach (var t in _graceTimers.Values) t.Dispose();
        _graceTimers.Clear();
        foreach (var entry in _names.Values) entry.Listener?.Dispose();
        return [.. _byAgent.Values];
    }

    public void Dispose() => CloseAll();

    [LoggerMessage(EventId = EventIds.TunnelOpened, Level = LogLevel.Information, Message = "Tunnel {Url} opened (session {Session}, token {Token}, agent {Remote})")]
    private partial void LogTunnelOpened(string url, string session, string token, string remote);

    [LoggerMessage(EventId = EventIds.TunnelSessionOffline, Level = LogLevel.Information, Message = "Session {Session} lost its last link; its names stay reserved for {GraceSeconds}s")]
    private partial void LogSessionOffline(string session, double graceSeconds);

    [LoggerMessage(EventId = EventIds.TunnelGrantsNotSent, Level = LogLevel.Debug, Message = "Session {Session}: the grants update did not reach the agent ({Reason})")]
    private partial void LogGrantsNotSent(string session, string reason);

    [LoggerMessage(EventId = EventIds.TunnelNameReleased, Level = LogLevel.Information, Message = "Tunnel name {Name} released")]
    private partial void LogNameReleased(string name);
}
