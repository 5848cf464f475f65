using System.Text.RegularExpressions;
using Portway.Agent;
using Portway.Configuration;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Cli;

/// <summary>
/// The files in packaging/ agree with the binary and the docs: the default configs load, and the
/// systemd units run the commands, signals and folders the docs describe. `.ci/units` checks the
/// units themselves with systemd-analyze.
/// </summary>
public sealed class PackagingTests
{
    private static readonly string Packaging = Path.Combine(Configuration.ValidationGoldenTests.FindRepoRoot(), "packaging");
    private static readonly string Docs = Path.Combine(Configuration.ValidationGoldenTests.FindRepoRoot(), "docs");

    [Fact]
    public async Task Validate_PackagedEdgeConfig_ExitCode0()
    {
        var (exit, stdout, stderr) = await PortwayProcess.RunAsync("validate", Path.Combine(Packaging, "portway.yaml"));
        Assert.True(exit == 0, stderr);
        Assert.Contains("ok (0 routes, 0 clusters, 1 listeners)", stdout);
    }

    [Fact]
    public void EdgeUnit_StateDirectory_HoldsTheConfigsAcmeStorage()
    {
        var unit = ReadUnit("portway.service");
        var config = ConfigLoader.LoadFile(Path.Combine(Packaging, "portway.yaml"));
        // StateDirectory=NAME is /var/lib/NAME, the only folder the unit lets the edge write.
        Assert.Equal("portway", unit["StateDirectory"].Single());
        Assert.StartsWith("/var/lib/portway/", config.Tls.Acme.Storage);
    }

    [Fact]
    public void EdgeUnit_ExecLines_MatchDocs()
    {
        var unit = ReadUnit("portway.service");
        Assert.Equal("/usr/bin/portway serve --config /etc/portway/portway.yaml", unit["ExecStart"].Single());
        // docs/cli.md: serve reloads its file on SIGHUP, and drains on SIGTERM.
        Assert.Equal("/bin/kill -HUP $MAINPID", unit["ExecReload"].Single());
        Assert.Contains("on SIGHUP", File.ReadAllText(Path.Combine(Docs, "cli.md")));
        Assert.Equal("SIGTERM", unit["KillSignal"].Single());
        // docs/tunnels.md: the drain lasts up to the 30 s shutdown timeout; systemd must wait longer.
        Assert.Contains("shutdown timeout (30 s)", File.ReadAllText(Path.Combine(Docs, "tunnels.md")));
        Assert.True(Seconds(unit["TimeoutStopSec"].Single()) > 30);
        var guide = File.ReadAllText(Path.Combine(Docs, "systemd.md"));
        foreach (var line in new[] { "ExecStart=", "ExecReload=", "StateDirectory=" })
            Assert.Contains($"{line}{unit[line.TrimEnd('=')].Single()}", guide);
    }

    [Fact]
    public async Task AgentUnit_ExecStart_RunsStartWithThePackagedFileName()
    {
        var unit = ReadUnit("portway-agent.service");
        Assert.Equal("/usr/bin/portway start --all --config /etc/portway/agent.yaml", unit["ExecStart"].Single());
        var (exit, stdout, _) = await PortwayProcess.RunAsync("start", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--all", stdout);
        Assert.Contains("--config", stdout);
    }

    [Fact]
    public async Task AgentUnit_ExecStartWithPackagedFile_TunnelServesRequests()
    {
        await using var origin = await TestOrigin.StartAsync("home server");
        await using var edge = await TestEdge.StartAsync("");
        // The unit's own arguments; only the file's path and its local port change, and --edge
        // points at this test's edge (dev mode: no token needed on loopback).
        var dir = Directory.CreateTempSubdirectory("portway-packaging-").FullName;
        var agentFile = Path.Combine(dir, "agent.yaml");
        await File.WriteAllTextAsync(agentFile, File.ReadAllText(Path.Combine(Packaging, "agent.yaml")).Replace("addr: localhost:8080", $"addr: localhost:{origin.Port}"));
        var args = ReadUnit("portway-agent.service")["ExecStart"].Single().Split(' ').Skip(1)
            .Select(a => a == "/etc/portway/agent.yaml" ? agentFile : a).Concat(["--edge", edge.Url.ToString()]).ToArray();
        await using var agent = PortwayProcess.Start(args);
        await Wait.UntilAsync(() => agent.Stdout.Contains("Forwarding ", StringComparison.Ordinal) || agent.HasExited, TimeSpan.FromSeconds(30), "the agent prints its URL");
        var line = agent.Stdout.Split('\n').First(l => l.StartsWith("Forwarding ", StringComparison.Ordinal));
        Assert.StartsWith("Forwarding http://home.", line);
        using var client = TunnelClient.Create();
        Assert.Equal("home server", await client.GetStringAsync(new Uri(line.Split(' ')[1])));
    }

    [Fact]
    public void AgentConfig_Packaged_LoadsWithoutToken()
    {
        var file = AgentConfigLoader.Load(Path.Combine(Packaging, "agent.yaml"));
        Assert.Equal(new Uri("https://edge.example.com"), file.Edge);
        // The token comes from EnvironmentFile= ($PORTWAY_TOKEN): agent.yaml is readable by everyone.
        Assert.Null(file.Token);
        Assert.Equal("false", file.Inspect);
        var web = Assert.Single(file.Tunnels);
        Assert.Equal(("web", "home", new Uri("http://localhost:8080")), (web.Id, web.Name, web.Target));
    }

    /// <summary>Key=value lines of a unit file (every section), repeated keys kept in order.</summary>
    private static Dictionary<string, List<string>> ReadUnit(string name)
    {
        var keys = new Dictionary<string, List<string>>();
        foreach (var raw in File.ReadLines(Path.Combine(Packaging, "systemd", name)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';' or '[') continue;
            var eq = line.IndexOf('=');
            var key = line[..eq];
            if (!keys.TryGetValue(key, out var values)) keys[key] = values = [];
            values.Add(line[(eq + 1)..]);
        }
        return keys;
    }

    private static int Seconds(string value) => int.Parse(Regex.Match(value, @"^(\d+)s?$").Groups[1].Value);
}
