using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Cli;

/// <summary>
/// A token never goes over plain http to another machine unless asked for. The edge named here is
/// under .invalid (RFC 6761 §6.4: never resolves), so even a regression would reach no host.
/// </summary>
public sealed class AgentPlainHttpTests
{
    [Fact]
    public async Task Http_PlainHttpEdgeOnAnotherMachineWithToken_RefusedSayingWhyAndHow()
    {
        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", "3000", "--edge", "http://edge.invalid:8080", "--token", "secret-token", "--inspect", "false");

        Assert.Equal(2, exit);
        Assert.Contains("--edge: http://edge.invalid:8080/ is plain http to another machine", stderr);
        Assert.Contains("https://edge.invalid", stderr);
        Assert.Contains("--allow-plain-http", stderr);
        Assert.DoesNotContain("secret-token", stderr);
    }

    [Fact]
    public async Task Http_AllowPlainHttp_GoesAheadWithAWarning()
    {
        await using var agent = PortwayProcess.Start("http", "3000", "--edge", "http://edge.invalid:8080", "--token", "secret-token", "--inspect", "false", "--allow-plain-http");

        // It gets past the check and tries the edge (which never resolves), warning once.
        await Wait.UntilAsync(() => agent.Stdout.Contains("cannot reach the edge at http://edge.invalid:8080/"), because: "the agent dials the edge");
        Assert.Contains("WARNING: --allow-plain-http: the token goes to http://edge.invalid:8080/ unencrypted", agent.Stderr);
        Assert.False(agent.HasExited);
    }

    [Fact]
    public async Task Start_AgentFileAllowPlainHttp_SameRule()
    {
        var dir = Directory.CreateTempSubdirectory("portway-agent-").FullName;
        var file = Path.Combine(dir, "agent.yaml");
        await File.WriteAllTextAsync(file, "edge: http://edge.invalid:8080\ntoken: secret-token\ninspect: false\ntunnels:\n  web:\n    proto: http\n    addr: 3000\n");
        var (exit, _, stderr) = await PortwayProcess.RunAsync("start", "--all", "--config", file);
        Assert.Equal(2, exit);
        Assert.Contains("plain http to another machine", stderr);

        await File.AppendAllTextAsync(file, "allow_plain_http: true\n");
        await using var agent = PortwayProcess.Start("start", "--all", "--config", file);
        await Wait.UntilAsync(() => agent.Stdout.Contains("cannot reach the edge"), because: "allowed by the file, the agent dials");
    }
}
