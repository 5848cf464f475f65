using System.Diagnostics;
using Xunit;

namespace Portway.Tests.Cli;

public sealed class ToolPackageTests
{
    [Fact]
    public async Task PackAndInstall_AsDotnetTool_RunsVersion()
    {
        var root = Configuration.ValidationGoldenTests.FindRepoRoot();
        var work = Directory.CreateTempSubdirectory("portway-tool-").FullName;
        var feed = Path.Combine(work, "feed");
        var tools = Path.Combine(work, "tools");
        // Pack a copy of the sources so this Release build never touches the build under test.
        var src = Path.Combine(work, "src");
        Copy(Path.Combine(root, "src", "Portway"), Path.Combine(src, "src", "Portway"));
        foreach (var f in new[] { "Directory.Build.props", "global.json" }) File.Copy(Path.Combine(root, f), Path.Combine(src, f));
        await Run("dotnet", "pack", Path.Combine(src, "src", "Portway"), "-c", "Release", "-o", feed);
        await Run("dotnet", "tool", "install", "Portway", "--tool-path", tools, "--add-source", feed);
        var output = await Run(Path.Combine(tools, "portway"), "version");
        Assert.StartsWith("portway ", output);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from))
        {
            var name = Path.GetFileName(dir);
            if (name is "bin" or "obj") continue;
            Copy(dir, Path.Combine(to, name));
        }
    }

    private static async Task<string> Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await p.WaitForExitAsync(cts.Token);
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({p.ExitCode}):\n{await stdout}\n{await stderr}");
        return await stdout;
    }
}
