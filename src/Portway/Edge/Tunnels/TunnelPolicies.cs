using System.Collections.Concurrent;
using Portway.Configuration;
using Portway.Edge.Rules;
using Portway.Edge.Settings;

namespace Portway.Edge.Tunnels;

/// <summary>
/// The agents' policies in force (--policy), by tunnel name: the text as the agent sent it and
/// its rules compiled once. A name keeps its policy while it is held; pooled agents on one name
/// send the same file (<see cref="TunnelRegistry"/> refuses one that differs).
/// </summary>
internal sealed class TunnelPolicies(PortwayProxyConfigProvider proxy)
{
    private readonly ConcurrentDictionary<string, Entry> _byName = new(StringComparer.Ordinal);

    /// <summary>The rules for requests to <paramref name="name"/>, or null when its agent sent none.</summary>
    public RuleChain? For(string name) => _byName.TryGetValue(name, out var entry) ? entry.Chain : null;

    /// <summary>The policy text the name is served with, or null.</summary>
    public string? TextOf(string name) => _byName.TryGetValue(name, out var entry) ? entry.Text : null;

    /// <summary>Puts <paramref name="text"/> (already validated by the link endpoint) in force for the name; null removes it.</summary>
    public void Set(string name, string? text)
    {
        if (text is null)
        {
            Remove(name);
            return;
        }
        if (_byName.TryGetValue(name, out var current) && current.Text == text) return;
        var configs = PolicyDocument.Parse(text, "policy");
        var rules = new Rule[configs.Length];
        for (var i = 0; i < rules.Length; i++) rules[i] = proxy.Rules.Compile(configs[i]);
        var replaced = _byName.TryGetValue(name, out var old) ? old : null;
        _byName[name] = new Entry(text, new RuleChain(rules));
        replaced?.Dispose();
    }

    public void Remove(string name)
    {
        if (_byName.TryRemove(name, out var old)) old.Dispose();
    }

    private sealed record Entry(string Text, RuleChain Chain)
    {
        public void Dispose()
        {
            foreach (var rule in Chain.Rules) rule.Dispose();
        }
    }
}
