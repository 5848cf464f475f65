using System.Text.RegularExpressions;
using Portway.Configuration;
using YamlDotNet.RepresentationModel;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// Every config key the documentation promises, as dotted paths (<c>clusters[].retries.attempts</c>),
/// plus one <c>KEY=VALUE</c> per value of an enumerated key. Read from samples/full.yaml (commented-out
/// keys included), the key tables of docs/configuration.md, and the key tables of the pages it links
/// for routes, clusters and access. Containers (a key with documented children) are left out: their
/// children are what a test has to exercise.
/// </summary>
internal static partial class DocumentedKeyCatalog
{
    /// <summary>Tables outside configuration.md: (file, heading the table sits under) → the key path the table's keys are under.
    /// A key table under a heading not listed here fails the check, so a new table cannot be silently skipped.</summary>
    private static readonly Dictionary<(string File, string Heading), string> LinkedTables = new()
    {
        [("access.md", "# Access: address rules, rate limits, basic auth")] = "routes[].access",
        [("load-balancing.md", "### Active: `health.active`")] = "clusters[].health.active",
        [("load-balancing.md", "### Passive: `health.passive`")] = "clusters[].health.passive",
        [("load-balancing.md", "## Timeouts: `timeouts`")] = "clusters[].timeouts",
        [("load-balancing.md", "## Retries")] = "clusters[].retries",
        [("tls.md", "## Upstream TLS (`https://` destinations)")] = "clusters[].tls",
        // These two tables write whole paths (cache.memory, routes[].cache; tunnels.domains, tokens[].name).
        [("tunnels.md", "## A real edge")] = "tunnels",
        [("tunnels.md", "## Limits per token")] = "tunnels",
        [("tunnels.md", "## Browser warning")] = "tunnels",
        [("caching.md", "## Keys")] = "",
        [("geo.md", "## Keys")] = "",
        // policy.md: where lists attach (whole paths), then one table per rule kind, its keys under rules[].KIND.
        [("policy.md", "## Where rules attach")] = "",
        [("policy.md", "## `geo`")] = "rules[].geo",
        [("policy.md", "## `jwt`")] = "rules[].jwt",
        [("policy.md", "## `forward_auth`")] = "rules[].forward_auth",
        [("policy.md", "## `headers`")] = "rules[].headers",
        [("policy.md", "## `respond`")] = "rules[].respond",
        [("policy.md", "## `redirect`")] = "rules[].redirect",
        [("policy.md", "## `rewrite`")] = "rules[].rewrite",
        [("policy.md", "## `security_headers`")] = "rules[].security_headers",
        [("policy.md", "## `webhook_verify`")] = "rules[].webhook_verify",
        [("policy.md", "## `cors`")] = "rules[].cors",
        [("policy.md", "## `compress`")] = "rules[].compress",
        [("policy.md", "## `oidc`")] = "rules[].oidc",
        [("policy.md", "## `circuit_breaker`")] = "rules[].circuit_breaker",
    };

    /// <summary>Value tables (first column `value`): (file, heading) → the key whose values they list.</summary>
    private static readonly Dictionary<(string File, string Heading), string> ValueTables = new()
    {
        [("load-balancing.md", "## Policies: `load_balancing`")] = "clusters[].load_balancing",
        [("load-balancing.md", "### `consistent_hash` and `hash_on`")] = "clusters[].hash_on",
    };

    /// <summary>Keys whose values the config loader checks against a list: each value is a key of its own to cover.</summary>
    public static readonly Dictionary<string, string[]> CodeEnumerations = new()
    {
        ["routes[].match.headers[].mode"] = RoutesSection.HeaderModes,
        ["routes[].match.query[].mode"] = RoutesSection.QueryModes,
        ["routes[].transforms[].kind"] = RoutesSection.TransformKinds,
        ["clusters[].load_balancing"] = LoadBalancingNames.All,
        ["listeners[].protocols"] = ListenersSection.ProtocolNames,
        ["routes[].access.rate_limit.key"] = Portway.Edge.Rules.RateLimitRule.KeyNames,
        ["routes[].access.rate_limit.algorithm"] = Portway.Edge.Rules.RateLimitRule.Algorithms,
        ["routes[].access.rate_limit.missing_key"] = Portway.Edge.Rules.RateLimitRule.MissingKeyModes,
    };

    /// <summary>configuration.md and the pages it links for a section's keys (tls.md only for its clusters[].tls table).</summary>
    public static readonly string[] Documents = ["configuration.md", "access.md", "load-balancing.md", "tls.md", "tunnels.md", "caching.md", "geo.md", "policy.md"];

    public static SortedSet<string> Load(string repoRoot)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var lists = new HashSet<string>(StringComparer.Ordinal);
        var sample = Uncomment(File.ReadAllText(Path.Combine(repoRoot, "samples", "full.yaml")));
        Walk(Parse(sample), "", keys, lists);
        // Doc examples teach the shapes (which keys hold lists of mappings) without adding keys.
        foreach (var doc in Documents)
        {
            foreach (var block in YamlBlocks(File.ReadAllText(Path.Combine(repoRoot, "docs", doc))))
            {
                try { Walk(Parse(block), "", new HashSet<string>(), lists); }
                catch (YamlDotNet.Core.YamlException) { } // prose-like examples with "…" are not all YAML
            }
        }
        foreach (var doc in Documents) ReadTables(doc, File.ReadAllText(Path.Combine(repoRoot, "docs", doc)), keys, lists);
        foreach (var (key, values) in CodeEnumerations)
        {
            foreach (var value in values) keys.Add(key + "=" + value);
        }

        var containers = keys.Where(k => keys.Any(o => o.Length > k.Length && o.StartsWith(k, StringComparison.Ordinal) && o[k.Length] is '.' or '[' or '=')).ToList();
        foreach (var c in containers) keys.Remove(c);
        return keys;
    }

    /// <summary>full.yaml shows optional keys commented out (`# enabled: false`); they are documented keys too.</summary>
    private static string Uncomment(string yaml) => CommentedKey().Replace(yaml, "$1$2:");

    [GeneratedRegex(@"^([ \t]*)# ([a-z_0-9]+):(?=\s)", RegexOptions.Multiline)]
    private static partial Regex CommentedKey();

    private static YamlNode Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode;
    }

    private static void Walk(YamlNode node, string path, ISet<string> keys, ISet<string> lists)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    var child = path.Length == 0 ? ((YamlScalarNode)k).Value! : path + "." + ((YamlScalarNode)k).Value;
                    Walk(v, child, keys, lists);
                }
                break;
            case YamlSequenceNode seq when seq.Children.Any(c => c is YamlMappingNode):
                lists.Add(path);
                foreach (var item in seq.Children)
                {
                    if (item is YamlMappingNode) Walk(item, path + "[]", keys, lists);
                }
                break;
            default:
                keys.Add(path); // a scalar or a list of scalars
                break;
        }
    }

    private static IEnumerable<string> YamlBlocks(string markdown)
    {
        var parts = markdown.Split("```");
        for (var i = 1; i < parts.Length; i += 2)
        {
            if (parts[i].StartsWith("yaml\n", StringComparison.Ordinal)) yield return parts[i]["yaml\n".Length..];
        }
    }

    private static void ReadTables(string doc, string markdown, ISet<string> keys, HashSet<string> lists)
    {
        string heading = "";
        string? prefix = null;
        string? valuesOf = null;
        var inCode = false;
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
            if (inCode) continue;
            if (line.StartsWith('#'))
            {
                heading = line;
                prefix = valuesOf = null;
                continue;
            }
            if (!line.StartsWith('|')) { prefix = valuesOf = null; continue; }
            // Split on the column bars, not on a `\|` inside a cell.
            var cells = CellBar().Split(line.Trim('|')).Select(c => c.Trim()).ToArray();
            if (cells[0].StartsWith("---", StringComparison.Ordinal)) continue;
            if (prefix is null && valuesOf is null)
            {
                // A table's header row.
                if (cells[0] == "value")
                {
                    if (doc == "configuration.md") continue;
                    valuesOf = ValueTables.GetValueOrDefault((doc, heading))
                        ?? throw new InvalidOperationException($"docs/{doc}: a value table under '{heading}' has no key in DocumentedKeyCatalog.ValueTables; add which key it lists values of");
                }
                else if (cells[0].StartsWith("key", StringComparison.Ordinal))
                {
                    prefix = doc == "configuration.md" ? SectionOf(heading)
                        : LinkedTables.GetValueOrDefault((doc, heading));
                    // tls.md: only the clusters[].tls table is linked from configuration.md (sites and acme are in full.yaml).
                    if (prefix is null && doc == "tls.md") { prefix = Skip; continue; }
                    if (prefix is null)
                        throw new InvalidOperationException($"docs/{doc}: a key table under '{heading}' has no key path in DocumentedKeyCatalog.LinkedTables; add where its keys sit");
                }
                else prefix = Skip; // not a key table (e.g. the table of value kinds)
                continue;
            }
            if (prefix == Skip) continue;
            foreach (Match m in Backticked().Matches(cells[0]))
            {
                var name = m.Groups[1].Value.Split(':')[0].Trim();
                if (valuesOf is not null) { keys.Add(valuesOf + "=" + m.Groups[1].Value); continue; }
                var key = Join(prefix!, name, lists);
                keys.Add(key);
                // `{a, b: X, c}` in the meaning column names the keys of the mapping (or of each list item).
                if (cells.Length > 2)
                {
                    foreach (Match braces in Braces().Matches(cells[^1]))
                    {
                        var itemPrefix = lists.Contains(key) ? key + "[]" : key;
                        foreach (var part in braces.Groups[1].Value.Split(','))
                            keys.Add(itemPrefix + "." + part.Split(':')[0].Trim());
                    }
                }
            }
        }
    }

    private const string Skip = "(not a key table)";

    private static string SectionOf(string heading)
    {
        var m = Regex.Match(heading, "^## `([a-z_]+)`$");
        return m.Success ? m.Groups[1].Value : Skip;
    }

    /// <summary>prefix + dotted name, with [] after every segment that holds a list of mappings.</summary>
    private static string Join(string prefix, string dotted, HashSet<string> lists)
    {
        // A table under `tunnels` may write tunnels.domains or tokens[].name: both are under tunnels.
        if (prefix.Length > 0 && dotted.StartsWith(prefix + ".", StringComparison.Ordinal)) dotted = dotted[(prefix.Length + 1)..];
        var path = prefix;
        if (lists.Contains(path)) path += "[]";
        foreach (var segment in dotted.Split('.'))
        {
            path = path.Length == 0 ? segment : path + "." + segment;
            if (lists.Contains(path)) path += "[]";
        }
        return path.EndsWith("[]", StringComparison.Ordinal) ? path[..^2] : path;
    }

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellBar();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"`\{([^}`]+)\}`")]
    private static partial Regex Braces();
}
