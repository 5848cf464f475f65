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

    /// <summary>
    /// Port 80 without root or CAP_NET_BIND_SERVICE (portway started by hand, or in a container):
    /// one sentence naming the listener and the ways out, exit 1, no stack trace. As root the
    /// capability is dropped from the bounding set (setpriv), so root's file access stays.
    /// </summary>
    [SkippableFact]
    public async Task Serve_PrivilegedPortWithoutCapability_SaysHowToGrantItNoStackTrace()
    {
        Skip.If(int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim()) <= 80,
            "net.ipv4.ip_unprivileged_port_start allows port 80 to everyone here");
        var info = PortwayProcess.Command();
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        if (Environment.IsPrivilegedProcess)
        {
            info.ArgumentList.Insert(0, info.FileName);
            foreach (var a in new[] { "--bounding-set", "-net_bind_service", "--inh-caps", "-net_bind_service" }.Reverse()) info.ArgumentList.Insert(0, a);
            info.FileName = Tools.Require("setpriv", "util-linux");
        }
        foreach (var a in new[] { "proxy", "--from", "http://127.0.0.1:80", "--to", "http://127.0.0.1:9", "--admin", "false" }) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("cannot listen on http://127.0.0.1:80: permission denied", stderr);
        Assert.Contains("CAP_NET_BIND_SERVICE", stderr);
        Assert.DoesNotContain("   at ", stderr + await stdout);
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
