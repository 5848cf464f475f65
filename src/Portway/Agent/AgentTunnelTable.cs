using System.Collections.Frozen;
using System.Collections.Immutable;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>The agent's tunnels by granted name (what the edge puts in portway-tunnel); swapped whole when grants change.</summary>
internal sealed class AgentTunnelTable
{
    private readonly AgentOptions _options;
    private volatile FrozenDictionary<string, AgentTunnel> _byName = FrozenDictionary<string, AgentTunnel>.Empty;

    public AgentTunnelTable(AgentOptions options, AgentStatus status)
    {
        _options = options;
        status.GrantsChanged += Update;
    }

    public AgentTunnel? Find(string name) => _byName.GetValueOrDefault(name);

    private void Update(ImmutableArray<TunnelGrant> grants)
    {
        var map = new Dictionary<string, AgentTunnel>(StringComparer.OrdinalIgnoreCase);
        foreach (var grant in grants)
        {
            foreach (var t in _options.Tunnels)
            {
                if (t.Id == grant.Id) map[grant.Name] = new AgentTunnel(t, grant);
            }
        }
        _byName = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
