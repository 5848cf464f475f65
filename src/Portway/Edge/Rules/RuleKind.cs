using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// A rule kind: the name the config uses, the keys of its mapping, how that mapping is read and
/// checked (errors located by the <see cref="YamlSection"/>), and how its config compiles into an
/// immutable <see cref="Rule"/>. One class per kind, registered once in <see cref="RuleKinds"/>.
/// </summary>
internal abstract class RuleKind<TConfig> : IRuleKind where TConfig : RuleConfig
{
    public abstract string Name { get; }

    public abstract string[] Keys { get; }

    /// <summary>Reads the kind's mapping; null when it has errors (already reported).</summary>
    public abstract TConfig? Read(YamlSection rule);

    /// <summary>The immutable rule; <paramref name="services"/> holds what it may need on the request path (resolved once, not per request).</summary>
    public abstract Rule Compile(TConfig config, RuleServices services);

    RuleConfig? IRuleReader.Read(YamlSection rule) => Read(rule);

    Rule IRuleKind.Compile(RuleConfig config, RuleServices services) => Compile((TConfig)config, services);
}

/// <summary>A rule kind without its config type, as the registry holds it.</summary>
internal interface IRuleKind : IRuleReader
{
    Rule Compile(RuleConfig config, RuleServices services);
}
