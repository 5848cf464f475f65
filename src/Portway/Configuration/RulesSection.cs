using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>
/// Reads a <c>rules:</c> list (top level, <c>routes[]</c>, <c>clusters[]</c>): each item is a
/// mapping with one key, the rule kind, whose value is that kind's mapping
/// (<c>- ip: { allow: [10.0.0.0/8] }</c>). An unknown kind is an error naming the nearest known one.
/// </summary>
internal static class RulesSection
{
    public static ImmutableArray<RuleConfig> Read(YamlSection parent)
    {
        var result = ImmutableArray.CreateBuilder<RuleConfig>();
        var node = parent.Raw("rules");
        if (node is null) return result.ToImmutable();
        var key = parent.Join("rules");
        if (node is not YamlSequenceNode seq)
        {
            parent.Context.Error(node, key, $"must be a list of rules, e.g. - ip: {{ allow: [10.0.0.0/8] }}; rule kinds: {Kinds()}");
            return result.ToImmutable();
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var at = $"{key}[{i}]";
            if (seq.Children[i] is not YamlMappingNode item || item.Children.Count != 1)
            {
                parent.Context.Error(seq.Children[i], at, $"each rule is a mapping with one key, its kind, e.g. - headers: {{ response: {{ set: {{ X-Frame-Options: DENY }} }} }}; rule kinds: {Kinds()}");
                continue;
            }
            var (kindNode, body) = item.Children.First();
            var name = (kindNode as YamlScalarNode)?.Value ?? "";
            var reader = RuleCatalog.Find(name);
            if (reader is null)
            {
                var hint = Nearest.Find(name, RuleCatalog.Names);
                parent.Context.Error(kindNode, at, $"unknown rule '{name}'{(hint is null ? "" : $"; did you mean '{hint}'?")} (rule kinds: {Kinds()})");
                continue;
            }
            if (body is not YamlMappingNode mapping)
            {
                parent.Context.Error(body, $"{at}.{name}", $"must be a mapping with keys: {string.Join(", ", reader.Keys)} (write {{}} for the defaults)");
                continue;
            }
            if (reader.Read(new YamlSection(parent.Context, mapping, $"{at}.{name}", reader.Keys)) is { } rule) result.Add(rule);
        }
        return result.ToImmutable();
    }

    private static string Kinds() => string.Join(", ", RuleCatalog.Names);
}
