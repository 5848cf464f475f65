using System.Collections.Immutable;

namespace Portway.Agent;

/// <summary>
/// Everything one agent process needs. Built by the CLI flags (`portway http 3000 …`) or from an
/// agent config file (`portway start`), both through <see cref="AgentTunnelSpec"/>'s validation.
/// </summary>
internal sealed record AgentOptions
{
    /// <summary>Default edge: the zero-config `portway serve` on this machine.</summary>
    public static readonly Uri DefaultEdge = new("http://localhost:8080");

    public Uri Edge { get; init; } = DefaultEdge;
    public string? Token { get; init; }

    /// <summary>PEM file of the CA that signed the edge's certificate (a private CA); null = system roots.</summary>
    public string? EdgeCaFile { get; init; }

    /// <summary>Accept any edge certificate (labs and tests only; the CLI warns).</summary>
    public bool Insecure { get; init; }

    /// <summary>HTTP/1.1 Upgrade, HTTP/2 extended CONNECT, or auto (the first, falling back to the second on an HTTP/2-only listener).</summary>
    public LinkTransport Link { get; init; } = LinkTransport.Auto;
    public ImmutableArray<AgentTunnelOptions> Tunnels { get; init; } = [];

    /// <summary>Links kept open; at least two, so one can die without a gap (and one is always an idle spare).</summary>
    public int MinLinks { get; init; } = 2;

    /// <summary>Where the request inspector listens (ngrok's default is 127.0.0.1:4040); null = off.</summary>
    public System.Net.IPEndPoint? Inspect { get; init; }

    /// <summary>How many requests and body bytes the inspector keeps (when <see cref="Inspect"/> is on).</summary>
    public Inspector.InspectorOptions InspectorOptions { get; init; } = new();

    /// <summary>Reconnect back-off: from 0.5 s doubling to 30 s, each wait scaled by a random 50–100% (jitter).</summary>
    public TimeSpan BackoffMin { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);
}
