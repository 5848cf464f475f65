using System.Text.RegularExpressions;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>
/// The agent and the edge share only the wire format and the security checks: Agent/ never names
/// Portway.Edge, Edge/ never names Portway.Agent, Protocol/ uses the base class library and
/// Security/ only, and Security/ the base class library only. Checked on the sources, so a fully
/// qualified name or a using alias is caught as well as a using directive.
/// </summary>
public sealed partial class ArchitectureTests
{
    [Fact]
    public void Agent_DoesNotReferenceEdge() => AssertNoReference("Agent", EdgeNamespace(), "Portway.Edge");

    [Fact]
    public void Edge_DoesNotReferenceAgent() => AssertNoReference("Edge", AgentNamespace(), "Portway.Agent");

    [Fact]
    public void Protocol_UsesBaseClassLibraryAndSecurityOnly() => AssertUsesOnly("Protocol", "Portway.Protocol", "Portway.Security");

    /// <summary>Security/ (certificate-chain validation shared by edge and agent) sits below every other folder.</summary>
    [Fact]
    public void Security_UsesBaseClassLibraryOnly() => AssertUsesOnly("Security", "Portway.Security");

    private static void AssertUsesOnly(string folder, params string[] allowed)
    {
        var files = Directory.EnumerateFiles(Path.Combine(SourceRoot(), folder), "*.cs", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        var offenders = new List<string>();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            foreach (Match m in UsingDirective().Matches(text))
            {
                var ns = m.Groups[1].Value;
                if (!(ns.StartsWith("System", StringComparison.Ordinal) || allowed.Contains(ns))) offenders.Add($"{Path.GetFileName(file)}: using {ns}");
            }
            foreach (Match m in PortwayName().Matches(text))
            {
                if (!allowed.Any(a => m.Value.StartsWith(a, StringComparison.Ordinal))) offenders.Add($"{Path.GetFileName(file)}: {m.Value}");
            }
        }
        Assert.True(offenders.Count == 0, $"{folder}/ may use the BCL and {string.Join(", ", allowed)} only: " + string.Join("; ", offenders));
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

    // Any name under Portway.* (namespace declarations, fully qualified names, using directives).
    [GeneratedRegex(@"\bPortway(?:\.\w+)+")]
    private static partial Regex PortwayName();

    // Using directives only (they end in ';' on their line), not using statements or declarations.
    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();
}
