using Portway.Agent;
using Portway.Configuration;
using Portway.Protocol;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>The agent config file (portway start) and the user config (portway token add).</summary>
public sealed class AgentConfigTests
{
    [Fact]
    public void Parse_FullFile_BuildsTunnels()
    {
        var file = AgentConfigLoader.Parse("""
            edge: https://edge.example.com
            token: abc
            link: http2
            tunnels:
              web:
                proto: http
                addr: 3000
                name: blog
                host_header: rewrite
                basic_auth: [ann:pw]
                allow_cidr: [10.0.0.0/8]
                request_header_add: ["X-Env: dev"]
                response_header_remove: [X-Powered-By]
              db:
                proto: tcp
                addr: localhost:5432
                remote_port: 20001
            """, "agent.yaml");

        Assert.Equal(new Uri("https://edge.example.com"), file.Edge);
        Assert.Equal("http2", file.Link);
        Assert.Equal(2, file.Tunnels.Length);
        var web = file.Tunnels[0];
        Assert.Equal(("web", TunnelKind.Http, "http://localhost:3000/", "blog", "rewrite"), (web.Id, web.Kind, web.Target.ToString(), web.Name, web.HostHeader));
        Assert.Equal(("ann", "pw"), web.BasicAuth[0]);
        Assert.Equal(("X-Env", "dev"), web.RequestHeadersAdd[0]);
        Assert.Equal((TunnelKind.Tcp, "localhost:5432", 20001), (file.Tunnels[1].Kind, file.Tunnels[1].Address, file.Tunnels[1].RemotePort));
    }

    [Fact]
    public void Parse_Errors_ReportedWithLineAndColumn()
    {
        var e = Assert.Throws<ConfigException>(() => AgentConfigLoader.Parse("""
            link: h3
            tunnels:
              web:
                proto: htp
                addr: 99999
                basic_auth: [nocolon]
                alow_cidr: [10.0.0.0/8]
            """, "agent.yaml"));

        var text = string.Join("\n", e.Errors);
        Assert.Contains("agent.yaml:1:7: link: 'h3' is not allowed", text);
        Assert.Contains("agent.yaml:4:12: tunnels.web.proto: 'htp' is not allowed (did you mean 'http'?)", text);
        Assert.Contains("agent.yaml:5:11: tunnels.web.addr: '99999' is not a port", text);
        Assert.Contains("agent.yaml:6:18: tunnels.web.basic_auth: 'nocolon' is not USER:PASSWORD", text);
        Assert.Contains("agent.yaml:7:5: tunnels.web.alow_cidr: unknown key; did you mean 'allow_cidr'?", text);
    }

    [Fact]
    public void SaveToken_WritesOwnerOnlyFileAndKeepsOtherSettings()
    {
        var dir = Directory.CreateTempSubdirectory("portway-agent-");
        var path = Path.Combine(dir.FullName, "sub", "agent.yaml");
        UserConfig.SaveToken(path, "first");
        File.AppendAllText(path, "tunnels:\n  web: {proto: http, addr: 3000}\n");

        UserConfig.SaveToken(path, "second");

        var file = AgentConfigLoader.Load(path);
        Assert.Equal("second", file.Token);
        Assert.Single(file.Tunnels);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Theory]
    [InlineData("3000", "http://localhost:3000/")]
    [InlineData("127.0.0.1:8080", "http://127.0.0.1:8080/")]
    [InlineData("https://localhost:8443", "https://localhost:8443/")]
    public void ParseTarget_Forms(string text, string expected) =>
        Assert.Equal(expected, AgentTunnelSpec.ParseTarget(TunnelKind.Http, text, out _)?.ToString());

    [Fact]
    public async Task Cli_BadToken_ExitsNonZeroWithMessage()
    {
        await using var edge = await TestEdge.StartAsync(TunnelLifecycleTests.TokenConfig("alice", "right"));

        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", "3000", "--edge", edge.Url.ToString(), "--token", "wrong", "--inspect", "false");

        Assert.Equal(3, exit);
        Assert.Contains("refused the tunnel: The token is not valid on this edge", stderr);
    }

    [Fact]
    public async Task Cli_BadFlag_ExitsTwoNamingTheFlag()
    {
        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", "3000", "--basic-auth", "nopassword", "--allow-cidr", "10.0.0.0/99", "--inspect", "false");

        Assert.Equal(2, exit);
        Assert.Contains("--basic-auth: 'nopassword' is not USER:PASSWORD", stderr);
        Assert.Contains("--allow-cidr: '10.0.0.0/99' is not an address or CIDR", stderr);
    }

    [Fact]
    public async Task Cli_TokenHash_MatchesEdgeCheck()
    {
        var (exit, stdout, _) = await PortwayProcess.RunAsync("token", "hash", "s3cret");

        Assert.Equal(0, exit);
        Assert.Equal(Portway.Edge.Tunnels.TokenAuthenticator.Hash("s3cret"), stdout.Trim());
    }
}
