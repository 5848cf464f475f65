using System.Collections.Immutable;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>
/// An agent's policy file (<c>portway http 3000 --policy FILE</c>, docs/tunnels.md#agent-policy):
/// a <c>rules:</c> list in the edge's syntax, read by the same readers. The agent checks it before
/// dialing; the edge reads it again from the link request and never trusts the agent's check.
/// </summary>
internal static class PolicyDocument
{
    /// <summary>It travels in a header of every link request; 8 KiB leaves most of Kestrel's 32 KiB header budget.</summary>
    public const int MaxBytes = 8 * 1024;

    public const int MaxRules = 32;

    /// <summary>
    /// Kinds a policy may not hold: <c>geo</c> names the edge's regions, which the agent cannot
    /// know or check, and which an edge operator may not want agents to probe.
    /// </summary>
    public static readonly string[] RefusedKinds = ["geo"];

    private static readonly string[] TopKeys = ["rules"];

    /// <summary>The policy's rules; a <see cref="ConfigException"/> with every located problem otherwise.</summary>
    public static ImmutableArray<RuleConfig> Parse(string text, string file)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > MaxBytes)
            throw new ConfigException([new ConfigError(file, 1, 1, "", $"is {bytes} bytes; a policy may be at most {MaxBytes} bytes (8 KiB): keep to the rules the tunnel needs")]);
        var context = new ConfigContext(file);
        var root = YamlFile.LoadRoot(text, file, TopKeys);
        if (root is null)
            throw new ConfigException([new ConfigError(file, 1, 1, "", "is empty; a policy is a rules: list, e.g. rules: [{ ip: { allow: [203.0.113.0/24] } }]")]);
        var top = new YamlSection(context, root, "", TopKeys);
        if (!top.Has("rules")) context.Error(root, "rules", "is required: the list of rules for this tunnel's requests, e.g. - basic_auth: { … }");
        var rules = RulesSection.Read(top);
        if (top.Raw("rules") is YamlSequenceNode seq)
        {
            if (seq.Children.Count > MaxRules) context.Error(seq, "rules", $"has {seq.Children.Count} rules; a policy may hold at most {MaxRules}");
            for (var i = 0; i < seq.Children.Count; i++)
            {
                if (seq.Children[i] is YamlMappingNode { Children.Count: 1 } item && item.Children.First().Key is YamlScalarNode { Value: { } kind }
                    && Array.IndexOf(RefusedKinds, kind) >= 0)
                    context.Error(item.Children.First().Key, $"rules[{i}]", $"'{kind}' may not be used in an agent's policy: its regions are the edge's; ask the edge's operator to add it to the token's rules");
            }
        }
        if (context.Errors.Count > 0)
            throw new ConfigException(context.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
        return rules;
    }
}
