using System.Collections.Immutable;
using System.Net;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>One tunnel of an agent: where it forwards and the rules applied to visitors first.</summary>
internal sealed record AgentTunnelOptions
{
    /// <summary>The agent's own label (the config file's key, or "http"/"tcp" for the CLI).</summary>
    public required string Id { get; init; }
    public required TunnelKind Kind { get; init; }
    /// <summary>http(s)://HOST:PORT for HTTP tunnels; tcp://HOST:PORT for TCP tunnels.</summary>
    public required Uri Target { get; init; }
    /// <summary>Requested name (HTTP) — the edge's token must allow it; null = random.</summary>
    public string? Name { get; init; }
    /// <summary>Requested public port (TCP); null = any free port in the edge's range.</summary>
    public int? RemotePort { get; init; }
    /// <summary>null: pass the visitor's Host through; "rewrite": the target's host:port; anything else: that value.</summary>
    public string? HostHeader { get; init; }
    public ImmutableArray<(string User, string Password)> BasicAuth { get; init; } = [];
    public ImmutableArray<IPNetwork> AllowCidrs { get; init; } = [];
    public ImmutableArray<IPNetwork> DenyCidrs { get; init; } = [];
    public ImmutableArray<(string Name, string Value)> RequestHeadersAdd { get; init; } = [];
    public ImmutableArray<string> ResponseHeadersRemove { get; init; } = [];
    /// <summary>The --policy file's text (checked), sent to the edge, which applies its rules after the operator's; null = none.</summary>
    public string? Policy { get; init; }

    /// <summary>How the target is shown on the screen: http://localhost:3000, or localhost:22 for TCP.</summary>
    public string TargetText => Kind == TunnelKind.Http ? Target.GetLeftPart(UriPartial.Authority) : Address;

    /// <summary>host:port of the target, as error messages name it ("could not connect to localhost:3000").</summary>
    public string Address => $"{Target.Host}:{Target.Port}";
}
