using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// What a tunnel route's chain is made of when <c>tunnels.by_name</c> has entries: the global
/// rules, the token's, then every entry whose names match the tunnel's, in file order
/// (docs/policy.md). A tunnel's name is known only when its agent registers, so chains are put
/// together per tunnel route (and remembered by <see cref="EdgeSettings"/> for the snapshot).
/// </summary>
internal sealed class TunnelRules(Rule[] global, Dictionary<string, Rule[]> tokens, (EquatableArray<string> Names, Rule[] Rules)[] byName)
{
    public static readonly TunnelRules None = new([], [], []);

    public bool IsEmpty => byName.Length == 0;

    public RuleChain Chain(string name, string? token)
    {
        var named = new List<Rule>();
        foreach (var (names, rules) in byName)
        {
            if (TunnelNamePattern.MatchesAny(name, names)) named.AddRange(rules);
        }
        var own = token is not null ? tokens.GetValueOrDefault(token) ?? [] : [];
        return EdgeSettings.Chain(global, own, [.. named]);
    }
}
