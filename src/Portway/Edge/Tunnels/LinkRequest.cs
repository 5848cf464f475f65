using System.Collections.Immutable;
using System.Net;
using Portway.Configuration;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>A parsed, authenticated link request.</summary>
/// <param name="PublicScheme">http or https: how visitors reach this edge (the scheme the agent dialed).</param>
/// <param name="PublicPort">The port visitors use, or null for the scheme's default.</param>
/// <param name="PublicHost">The edge's host as the agent dialed it (for tcp:// URLs).</param>
internal sealed record LinkRequest(
    string AgentId,
    TunnelTokenConfig? Token,
    ImmutableArray<TunnelRequest> Tunnels,
    IPAddress? Remote,
    string PublicScheme,
    int? PublicPort,
    string PublicHost);
