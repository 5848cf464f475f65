using Portway.Configuration;
using Xunit;

namespace Portway.Tests.Configuration;

/// <summary>
/// Golden files: each Golden/validation/NAME.yaml is an invalid config whose every error (as
/// `portway validate` prints them) is in NAME.errors.txt. Set UPDATE_GOLDEN=1 to rewrite them.
/// </summary>
public sealed class ValidationGoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Golden", "validation"), "*.yaml").Order())
            data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Load_InvalidFile_ReportsEveryErrorWithLineAndColumn(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Golden", "validation");
        var yaml = File.ReadAllText(Path.Combine(dir, name + ".yaml"));
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, name + ".yaml"));
        var actual = string.Join("\n", e.Errors.Select(x => x.ToString())) + "\n";
        var goldenPath = Path.Combine(dir, name + ".errors.txt");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            var source = Path.Combine(FindRepoRoot(), "tests", "Portway.Tests", "Golden", "validation", name + ".errors.txt");
            File.WriteAllText(source, actual);
            return;
        }
        Assert.True(File.Exists(goldenPath), $"missing golden file {name}.errors.txt; run with UPDATE_GOLDEN=1 and review it. Actual:\n{actual}");
        Assert.Equal(File.ReadAllText(goldenPath).ReplaceLineEndings("\n"), actual);
    }

    internal static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portway.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
