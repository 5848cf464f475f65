namespace Portway.Configuration;

/// <summary>
/// The config side of a rule kind: its name in the file, the keys of its mapping, and how that
/// mapping becomes a <see cref="RuleConfig"/>. Implemented by the rule kinds in Edge/Rules and
/// handed to the loader through <see cref="RuleCatalog"/>.
/// </summary>
internal interface IRuleReader
{
    string Name { get; }

    /// <summary>The keys the kind's mapping may have; anything else is an unknown-key error with the nearest one.</summary>
    string[] Keys { get; }

    /// <summary>Reads the kind's mapping (already checked against <see cref="Keys"/>); errors go to the section's context. Null when unusable.</summary>
    RuleConfig? Read(YamlSection rule);
}
