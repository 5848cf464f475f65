using System.Reflection;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// The rule: a config key in docs/configuration.md (or the key tables it links) or samples/full.yaml
/// that no test sends a request through the real edge is a defect. Tests declare what they cover
/// with <see cref="CoversKeyAttribute"/>; this class fails on any documented key without one.
/// Run alone: .ci/documented-keys (it prints the keys and where each one is missing).
/// </summary>
public sealed class DocumentedKeysCoverageTests
{
    /// <summary>
    /// Keys no test exercises, each with why. Keep this short: a key belongs here only when no
    /// request through the edge can show it took effect.
    /// </summary>
    internal static readonly Dictionary<string, string> NotExercised = new()
    {
        ["tls.acme.email"] = "the account's contact, sent to the CA once when the account is made; nothing the edge serves, "
            + "and nothing Pebble reports back, shows it",
        ["tls.acme.poll_interval"] = "how often a pending authorization is polled when the CA sends no Retry-After; only elapsed "
            + "time could show it (the Pebble tests set 100ms to stay fast)",
        ["tls.acme.renew_at"] = "Pebble offers ARI (RFC 9773), whose window wins over renew_at, so no end-to-end run reaches it; "
            + "AcmeUnitTests.RenewalPlanner_LifetimeWindowAndBackoff checks the share of the lifetime",
    };

    private static SortedSet<string> Documented() => DocumentedKeyCatalog.Load(ValidationGoldenTests.FindRepoRoot());

    internal static Dictionary<string, List<string>> Covered()
    {
        var covered = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var type in typeof(DocumentedKeysCoverageTests).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                var attributes = method.GetCustomAttributes<CoversKeyAttribute>().ToList();
                if (attributes.Count == 0) continue;
                // Only a test counts: a helper with the attribute would cover nothing.
                var fact = method.GetCustomAttribute<FactAttribute>()
                    ?? throw new InvalidOperationException($"{type.Name}.{method.Name} has [CoversKey] but is not a [Fact]/[Theory]");
                // A skipped test shows nothing.
                if (fact.Skip is not null) continue;
                foreach (var key in attributes.SelectMany(a => a.Keys))
                {
                    if (!covered.TryGetValue(key, out var tests)) covered[key] = tests = [];
                    tests.Add($"{type.Name}.{method.Name}");
                }
            }
        }
        return covered;
    }

    [Fact]
    public void Catalog_DocsAndSample_ReadEverySource()
    {
        var keys = Documented();

        // One key from each source and shape, so a parser change that drops a source fails here.
        Assert.Contains("routes[].timeout", keys);                        // configuration.md table + full.yaml
        Assert.Contains("routes[].match.path", keys);                     // configuration.md only
        Assert.Contains("admin.enabled", keys);                           // commented out in full.yaml
        Assert.Contains("tls.acme.ca_root", keys);                        // commented out in full.yaml
        Assert.Contains("clusters[].destinations[].id", keys);            // `{url, weight, id}` in a meaning column
        Assert.Contains("routes[].access.rate_limit.burst", keys);        // access.md
        Assert.Contains("routes[].access.basic_auth.users[].password_hash", keys);
        Assert.Contains("clusters[].health.active.expect", keys);         // load-balancing.md
        Assert.Contains("clusters[].load_balancing=peak_ewma", keys);     // a value table
        Assert.Contains("clusters[].hash_on=cookie:NAME", keys);
        Assert.Contains("routes[].match.headers[].mode=not_exists", keys); // a code enumeration
        Assert.Contains("clusters[].tls.insecure", keys);                 // tls.md, linked for clusters
        Assert.Contains("tunnels.tokens[].allow_tcp", keys);
        // Containers are not keys of their own; their children are.
        Assert.DoesNotContain("clusters[].health.active", keys);
        Assert.DoesNotContain("routes[].match.headers[].mode", keys);
        Assert.DoesNotContain("routes", keys);
    }

    [Fact]
    public void EveryDocumentedKey_HasATestOrAReason()
    {
        var covered = Covered();
        var documented = Documented();
        var missing = documented.Where(k => !covered.ContainsKey(k) && !NotExercised.ContainsKey(k)).ToList();
        // .ci/documented-keys asks for the whole table: key, then its tests or why it has none.
        if (Environment.GetEnvironmentVariable("DOCUMENTED_KEYS_REPORT") is { Length: > 0 } report)
        {
            File.WriteAllLines(report, documented.Select(k =>
                k + "\t" + (covered.TryGetValue(k, out var tests) ? string.Join(", ", tests)
                    : NotExercised.TryGetValue(k, out var why) ? "not exercised: " + why : "MISSING")));
        }

        Assert.True(missing.Count == 0,
            $"{missing.Count} documented config key(s) no test exercises through the real edge:\n  " + string.Join("\n  ", missing)
            + "\nAdd a test that would fail if the edge ignored the key and mark it [CoversKey(\"KEY\")]"
            + " (see tests/Portway.Tests/Configuration/DocumentedKeys), or, if no request can show the key, add it with the reason to NotExercised.");
    }

    [Fact]
    public void EveryCoveredKey_IsDocumented()
    {
        var documented = Documented();
        var unknown = Covered().Where(c => !documented.Contains(c.Key)).Select(c => $"{c.Key} (in {string.Join(", ", c.Value)})").ToList();

        Assert.True(unknown.Count == 0,
            "[CoversKey] names keys the docs do not list (a typo, or a key removed from the docs):\n  " + string.Join("\n  ", unknown));
    }

    [Fact]
    public void NotExercised_EveryEntry_IsDocumentedAndUncovered()
    {
        var documented = Documented();
        var covered = Covered();

        Assert.All(NotExercised, entry =>
        {
            Assert.True(documented.Contains(entry.Key), $"NotExercised lists '{entry.Key}', which the docs no longer have");
            Assert.False(covered.ContainsKey(entry.Key), $"'{entry.Key}' is covered by {string.Join(", ", covered.GetValueOrDefault(entry.Key) ?? [])}; remove it from NotExercised");
            Assert.False(string.IsNullOrWhiteSpace(entry.Value), $"'{entry.Key}' needs a reason");
        });
    }

    [Fact]
    public void CodeEnumerations_EveryValue_IsDocumented()
    {
        var root = ValidationGoldenTests.FindRepoRoot();
        var docs = string.Concat(DocumentedKeyCatalog.Documents.Select(d => File.ReadAllText(Path.Combine(root, "docs", d))));

        foreach (var (key, values) in DocumentedKeyCatalog.CodeEnumerations)
        {
            foreach (var value in values)
                Assert.True(docs.Contains($"`{value}`", StringComparison.Ordinal), $"the loader accepts {key}: {value}, but no doc mentions `{value}`");
        }
    }
}
