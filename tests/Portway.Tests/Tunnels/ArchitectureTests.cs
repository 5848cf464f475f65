using System.Text.RegularExpressions;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>
/// The agent and the edge share only the wire format: Agent/ never names Portway.Edge, Edge/
/// never names Portway.Agent, and Protocol/ uses the base class library only. Checked on the
/// sources, so a fully qualified name or a using alias is caught as well as a using directive.
/// </summary>
public sealed partial class ArchitectureTests
{
    [Fact]
    public void Agent_DoesNotReferenceEdge() => AssertNoReference("Agent", EdgeNamespace(), "Portway.Edge");

    [Fact]
    public void Edge_DoesNotReferenceAgent() => AssertNoReference("Edge", AgentNamespace(), "Portway.Agent");

    [Fact]
    public void Protocol_UsesBaseClassLibraryOnly()
    {
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(SourceRoot(), "Protocol"), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match m in UsingDirective().Matches(File.ReadAllText(file)))
            {
                var ns = m.Groups[1].Value;
                if (!(ns.StartsWith("System", StringComparison.Ordinal) || ns == "Portway.Protocol")) offenders.Add($"{Path.GetFileName(file)}: using {ns}");
            }
        }
        Assert.True(offenders.Count == 0, "Protocol/ must use the BCL only: " + string.Join("; ", offenders));
    }

    private static void AssertNoReference(string folder, Regex forbidden, string what)
    {
        var files = Directory.EnumerateFiles(Path.Combine(SourceRoot(), folder), "*.cs", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        var offenders = files.Where(f => forbidden.IsMatch(File.ReadAllText(f))).Select(Path.GetFileName).ToList();
        Assert.True(offenders.Count == 0, $"{folder}/ must not reference {what}: {string.Join(", ", offenders)}");
    }

    private static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Portway");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("src/Portway not found above the test output directory");
    }

    [GeneratedRegex(@"\bPortway\.Edge\b")]
    private static partial Regex EdgeNamespace();

    [GeneratedRegex(@"\bPortway\.Agent\b")]
    private static partial Regex AgentNamespace();

    // Using directives only (they end in ';' on their line), not using statements or declarations.
    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();
}
