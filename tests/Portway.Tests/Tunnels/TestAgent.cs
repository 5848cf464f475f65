using System.Collections.Immutable;
using Portway.Agent;
using Portway.Protocol;
using Portway.Tests.Infrastructure;

namespace Portway.Tests.Tunnels;

/// <summary>A real agent in the test process, dialing a real edge; started and waited on until online.</summary>
internal sealed class TestAgent : IAsyncDisposable
{
    private TestAgent(AgentHost host) => Host = host;

    public AgentHost Host { get; }
    public AgentStatus Status => Host.Status;

    /// <summary>The first tunnel's public URL.</summary>
    public Uri Url => new(Status.Grants[0].Url);

    public static AgentTunnelOptions Http(Uri target, string? name = null, string id = "web") =>
        new() { Id = id, Kind = TunnelKind.Http, Target = target, Name = name };

    public static AgentTunnelOptions Tcp(int port, string id = "tcp") =>
        new() { Id = id, Kind = TunnelKind.Tcp, Target = new Uri($"tcp://127.0.0.1:{port}") };

    public static Task<TestAgent> StartAsync(Uri edge, AgentTunnelOptions tunnel, string? token = null) =>
        StartAsync(new AgentOptions { Edge = edge, Token = token, Tunnels = [tunnel] });

    public static async Task<TestAgent> StartAsync(AgentOptions options)
    {
        var host = AgentHost.Create(options with { BackoffMin = TimeSpan.FromMilliseconds(100), BackoffMax = TimeSpan.FromSeconds(1) });
        var agent = new TestAgent(host);
        try
        {
            await host.StartAsync();
            await Wait.UntilAsync(() => host.Status.State == SessionState.Online && host.Status.Grants.Length == options.Tunnels.Length
                && host.Status.Links >= options.MinLinks, because: "the agent comes online with all its links");
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return agent;
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
