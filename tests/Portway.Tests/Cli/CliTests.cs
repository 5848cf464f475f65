using System.Text.RegularExpressions;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Cli;

public sealed class CliTests
{
    [Fact]
    public async Task Validate_InvalidFile_ExitCode1WithLocatedErrors()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Golden", "validation", "bad-values.yaml");
        var (exit, _, stderr) = await PortwayProcess.RunAsync("validate", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:17:16: clusters[0].timeouts.connect:", stderr);
        Assert.Contains("9 error(s)", stderr);
    }

    [Fact]
    public async Task Validate_Sample_ExitCode0()
    {
        var file = Path.Combine(Configuration.ValidationGoldenTests.FindRepoRoot(), "samples", "full.yaml");
        var (exit, stdout, _) = await PortwayProcess.RunAsync("validate", file);
        Assert.Equal(0, exit);
        Assert.Contains("ok (2 routes, 2 clusters, 3 listeners)", stdout);
    }

    [Fact]
    public async Task Serve_InvalidFile_NothingListensExitCode2()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Golden", "validation", "unknown-cluster.yaml");
        var (exit, stdout, stderr) = await PortwayProcess.RunAsync("serve", "--config", file);
        Assert.Equal(2, exit);
        Assert.Contains("unknown cluster 'ap'", stderr);
        Assert.DoesNotContain("listening on", stdout);
    }

    [Fact]
    public async Task Version_PrintsVersion()
    {
        var (exit, stdout, _) = await PortwayProcess.RunAsync("version");
        Assert.Equal(0, exit);
        Assert.Matches(@"^portway \d+\.\d+\.\d+", stdout);
    }

    [Fact]
    public async Task Serve_PrintsEveryAddress_SigtermExitsCleanly()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        var dir = Directory.CreateTempSubdirectory("portway-cli-");
        var config = Path.Combine(dir.FullName, "p.yaml");
        await File.WriteAllTextAsync(config, TestEdge.WithTestDefaults(TestEdge.OneRoute(origin.Url)));
        await using var portway = PortwayProcess.Start("serve", "--config", config);
        await Wait.UntilAsync(() => Regex.Matches(portway.Stdout, "listening on").Count == 2 || portway.HasExited, TimeSpan.FromSeconds(30));
        var proxy = Regex.Match(portway.Stdout, @"listening on (http://\S+)\s+proxy").Groups[1].Value;
        Assert.Matches(@"listening on http://127\.0\.0\.1:\d+\s+admin", portway.Stdout);
        using var client = new HttpClient();
        Assert.Equal("a", await client.GetStringAsync(proxy + "/"));
        portway.Terminate();
        await portway.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, portway.ExitCode);
    }

    [Fact]
    public async Task Serve_Sighup_ReloadsAndKeepsRunning()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        var dir = Directory.CreateTempSubdirectory("portway-cli-");
        var config = Path.Combine(dir.FullName, "p.yaml");
        static string Yaml(Uri origin) => TestEdge.WithTestDefaults(TestEdge.OneRoute(origin));
        await File.WriteAllTextAsync(config, Yaml(a.Url));
        await using var portway = PortwayProcess.Start("serve", "--config", config);
        await Wait.UntilAsync(() => portway.Stdout.Contains("proxy (listener") || portway.HasExited, TimeSpan.FromSeconds(30));
        var proxy = Regex.Match(portway.Stdout, @"listening on (http://\S+)\s+proxy").Groups[1].Value;
        using var client = new HttpClient();
        Assert.Equal("a", await client.GetStringAsync(proxy + "/"));
        await File.WriteAllTextAsync(config, Yaml(b.Url));
        // SIGHUP means reload (nginx's convention), never exit: the default action would kill us.
        System.Diagnostics.Process.Start("kill", ["-HUP", portway.Id.ToString()])!.WaitForExit();
        await Wait.UntilAsync(async () => await client.GetStringAsync(proxy + "/") == "b", because: "reloaded config serving");
        Assert.False(portway.HasExited);
    }
}
