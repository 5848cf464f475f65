using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// A reserved tunnel name (http) or port (tcp) and the sessions that serve it. Several holders
/// mean a pool (same token, allow_pooling). An entry lives while any holder is online or within
/// its grace period.
/// </summary>
internal sealed class NameEntry(TunnelKind kind, string name, string? tokenName)
{
    public TunnelKind Kind { get; } = kind;
    public string Name { get; } = name;
    public string Key { get; } = KeyOf(kind, name);
    public string? TokenName { get; } = tokenName;
    public List<TunnelSession> Holders { get; } = [];
    public TcpTunnelListener? Listener { get; set; }
    public int RoundRobin;

    public static string KeyOf(TunnelKind kind, string name) => (kind == TunnelKind.Http ? "http:" : "tcp:") + name;
}
