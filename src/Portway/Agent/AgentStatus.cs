using System.Collections.Immutable;
using Portway.Protocol;

namespace Portway.Agent;

internal enum SessionState
{
    Connecting,
    Online,
    Reconnecting,
    Failed,
}

/// <summary>
/// What the agent's screen shows and tests wait on: session state, links, the current grants and
/// a short log of events a person can act on ("could not connect to localhost:3000").
/// </summary>
internal sealed class AgentStatus
{
    private readonly Lock _gate = new();
    private readonly Queue<string> _events = new();

    public SessionState State { get; private set; } = SessionState.Connecting;
    public ImmutableArray<TunnelGrant> Grants { get; private set; } = [];
    public int Links { get; private set; }
    public string? LastError { get; private set; }

    /// <summary>Raised on every change; the plain (non-terminal) output prints events from it.</summary>
    public event Action<string>? Event;

    /// <summary>Raised when the grants change (first connect, or new names after an edge restart).</summary>
    public event Action<ImmutableArray<TunnelGrant>>? GrantsChanged;

    public IReadOnlyList<string> RecentEvents
    {
        get { lock (_gate) return [.. _events]; }
    }

    public void SetLinks(int links)
    {
        SessionState? changed = null;
        lock (_gate)
        {
            Links = links;
            if (links > 0 && State != SessionState.Online && State != SessionState.Failed) changed = State = SessionState.Online;
            else if (links == 0 && State == SessionState.Online) changed = State = SessionState.Reconnecting;
        }
        if (changed == SessionState.Online) Report("session online");
        else if (changed == SessionState.Reconnecting) Report("session lost; reconnecting");
    }

    public void SetGrants(ImmutableArray<TunnelGrant> grants)
    {
        lock (_gate)
        {
            if (Grants.SequenceEqual(grants)) return;
            Grants = grants;
        }
        GrantsChanged?.Invoke(grants);
    }

    public void Reconnecting(string error)
    {
        lock (_gate)
        {
            LastError = error;
            if (State != SessionState.Failed && Links == 0) State = State == SessionState.Connecting ? SessionState.Connecting : SessionState.Reconnecting;
        }
        Report(error);
    }

    public void Fail(string error)
    {
        lock (_gate)
        {
            State = SessionState.Failed;
            LastError = error;
        }
        Report(error);
    }

    public void Report(string message)
    {
        var line = $"{DateTime.Now:HH:mm:ss} {message}";
        lock (_gate)
        {
            _events.Enqueue(line);
            while (_events.Count > 8) _events.Dequeue();
        }
        Event?.Invoke(message);
    }
}
