using System.Text.RegularExpressions;
using Portway.Cli;
using Portway.Configuration;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Cli;

public sealed class ProxyCommandTests
{
    [Fact]
    public void BuildYaml_Flags_SameModelAsTheFile()
    {
        var fromFlags = ConfigLoader.Parse(
            ProxyCommand.BuildYaml(["http://127.0.0.1:3000", "http://127.0.0.1:3001"], "http://0.0.0.0:8080", ["example.com"], "least_requests", "/healthz", "false", accessLog: false),
            "(command line)");
        var fromFile = ConfigLoader.Parse("""
            listeners:
              - url: http://0.0.0.0:8080
            admin: { enabled: false }
            access_log: { enabled: false }
            routes:
              - id: proxy
                cluster: proxy
                match: { hosts: [example.com] }
            clusters:
              - id: proxy
                load_balancing: least_requests
                destinations: [http://127.0.0.1:3000, http://127.0.0.1:3001]
                health: { active: { path: /healthz } }
            """, "(command line)");
        Assert.Equal(fromFile, fromFlags);
    }

    [Fact]
    public async Task Proxy_BadFlags_ErrorsNameTheFlag()
    {
        var (exit, _, stderr) = await PortwayProcess.RunAsync("proxy", "--to", "ftp://x", "--lb", "fastest", "--from", "http://127.0.0.1:0", "--admin", "false");
        Assert.Equal(2, exit);
        Assert.Contains("portway proxy: --to: 'ftp://x' is not a server URL", stderr);
        Assert.Contains("portway proxy: --lb: 'fastest' is not allowed", stderr);
    }

    [Fact]
    public async Task Proxy_To_ForwardsRequests()
    {
        await using var origin = await TestOrigin.StartAsync("via-flags");
        await using var portway = PortwayProcess.Start("proxy", "--to", origin.Url.ToString(), "--from", "http://127.0.0.1:0", "--admin", "http://127.0.0.1:0", "--access-log", "false");
        await Wait.UntilAsync(() => portway.Stdout.Contains("proxy (listener") || portway.HasExited, TimeSpan.FromSeconds(30));
        var url = Regex.Match(portway.Stdout, @"listening on (http://\S+)\s+proxy").Groups[1].Value;
        using var client = new HttpClient();
        Assert.Equal("via-flags", await client.GetStringAsync(url + "/anything"));
    }
}
