using Portway.Edge;
using Xunit;

namespace Portway.Tests.Architecture;

/// <summary>
/// The edge's feature folders stay acyclic: shared state sits below the features that use it, and
/// only the composition root (<c>Portway.Edge</c>: <see cref="EdgeHost"/>, <see cref="ConfigReloader"/>)
/// sits above them all. Checked on the compiled assembly (<see cref="NamespaceGraph"/>), so a type
/// used through its parent namespace or by a fully qualified name counts as much as a using line.
/// </summary>
public sealed class EdgeNamespaceTests
{
    private const string Root = "Portway.Edge";

    private static readonly NamespaceGraph Graph = NamespaceGraph.Of(typeof(EdgeHost).Assembly, SourceRoot());

    private static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Portway");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("src/Portway not found above the test output directory");
    }

    [Fact]
    public void EdgeFeatures_DoNotUseTheCompositionRoot()
    {
        var offenders = new List<string>();
        foreach (var (from, targets) in Graph.Uses)
        {
            if (IsFeature(from) && targets.TryGetValue(Root, out var example)) offenders.Add($"{from} ({example})");
        }
        Assert.True(offenders.Count == 0, $"only the composition root lives in {Root}, and nothing under it uses it: " + string.Join("; ", offenders));
    }

    [Fact]
    public void CompositionRoot_HoldsOnlyTheHostTypes()
    {
        var types = typeof(EdgeHost).Assembly.GetTypes()
            .Where(t => t.Namespace == Root && !t.IsNested && !t.Name.StartsWith('<'))
            .Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["ConfigReloader", "EdgeHost"], types);
    }

    [Fact]
    public void EdgeFeatures_FormNoCycle()
    {
        var cycles = Cycles();
        Assert.True(cycles.Count == 0, "namespaces under Portway.Edge that use each other in a circle (each step: one type that does it):\n"
            + string.Join("\n", cycles));
    }

    /// <summary>The check itself: a graph with a cycle is reported with its path.</summary>
    [Fact]
    public void Cycles_KnownCycle_ReportedWithItsPath()
    {
        var uses = new Dictionary<string, Dictionary<string, string>>
        {
            ["Portway.Edge.A"] = new() { ["Portway.Edge.B"] = "A1 → B1" },
            ["Portway.Edge.B"] = new() { ["Portway.Edge.C"] = "B1 → C1" },
            ["Portway.Edge.C"] = new() { ["Portway.Edge.A"] = "C1 → A1" },
            ["Portway.Edge.D"] = new() { ["Portway.Edge.A"] = "D1 → A1" },
        };
        var cycle = Assert.Single(Cycles(uses));
        Assert.Equal("Portway.Edge.A → Portway.Edge.B (A1 → B1) → Portway.Edge.C (B1 → C1) → Portway.Edge.A (C1 → A1)", cycle);
    }

    private static List<string> Cycles() => Cycles(Graph.Uses);

    /// <summary>
    /// The cycles a depth-first search closes (an edge back to a namespace on the current path),
    /// each set of namespaces once; every strongly connected group of namespaces shows at least one.
    /// </summary>
    private static List<string> Cycles(Dictionary<string, Dictionary<string, string>> uses)
    {
        var cycles = new List<string>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in uses.Keys.Where(IsFeature).Order(StringComparer.Ordinal))
        {
            var path = new List<string>();
            Visit(start);

            void Visit(string node)
            {
                if (done.Contains(node)) return;
                var at = path.IndexOf(node);
                if (at >= 0)
                {
                    var loop = path.Skip(at).Append(node).ToList();
                    if (!seen.Add(string.Join(",", loop.Skip(1).Order(StringComparer.Ordinal)))) return;
                    var text = loop[0];
                    for (var i = 1; i < loop.Count; i++) text += $" → {loop[i]} ({uses[loop[i - 1]][loop[i]]})";
                    cycles.Add(text);
                    return;
                }
                path.Add(node);
                if (uses.TryGetValue(node, out var targets))
                {
                    foreach (var next in targets.Keys.Where(IsFeature).Order(StringComparer.Ordinal)) Visit(next);
                }
                path.RemoveAt(path.Count - 1);
                done.Add(node);
            }
        }
        return cycles;
    }

    private static bool IsFeature(string ns) => ns.StartsWith(Root + ".", StringComparison.Ordinal);
}
