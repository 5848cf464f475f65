using System.Collections.Frozen;

namespace Portway.Configuration;

/// <summary>
/// The rule kinds the loader knows, by the name the config uses. Configuration sits below the
/// edge's folders, so it cannot name the kinds (they compile into request-path code there);
/// the one registry, <c>Edge/Rules/RuleKinds</c>, hands them over from a module initializer, which
/// runs before any code of the assembly, so no caller can parse a file without them.
/// </summary>
internal static class RuleCatalog
{
    private static FrozenDictionary<string, IRuleReader> s_readers = FrozenDictionary<string, IRuleReader>.Empty;
    private static string[] s_names = [];

    /// <summary>Every kind's name, in the registry's order (for "allowed" lists and tests).</summary>
    public static IReadOnlyList<string> Names => s_names;

    public static void Register(IReadOnlyList<IRuleReader> readers)
    {
        var names = new string[readers.Count];
        var byName = new Dictionary<string, IRuleReader>(StringComparer.Ordinal);
        for (var i = 0; i < readers.Count; i++)
        {
            names[i] = readers[i].Name;
            if (!byName.TryAdd(readers[i].Name, readers[i])) throw new InvalidOperationException($"rule kind '{readers[i].Name}' is registered twice");
        }
        s_readers = byName.ToFrozenDictionary(StringComparer.Ordinal);
        s_names = names;
    }

    public static IRuleReader? Find(string name) => s_readers.GetValueOrDefault(name);

    /// <summary>A kind the loader itself uses (the access block's shorthand); registered by construction.</summary>
    public static IRuleReader Get(string name) =>
        Find(name) ?? throw new InvalidOperationException($"rule kind '{name}' is not registered (Edge/Rules/RuleKinds)");
}
