namespace Portway.Edge.Tunnels;

/// <summary>The session has no link: the agent is gone. Surfaces as the tunnel-offline page, never as a hang.</summary>
internal sealed class TunnelOfflineException() : IOException("the tunnel's agent is offline (no link)");
