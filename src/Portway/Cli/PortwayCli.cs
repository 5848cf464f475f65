using System.CommandLine;

namespace Portway.Cli;

/// <summary>The `portway` command line: one binary for the edge and (later) the agent.</summary>
internal static class PortwayCli
{
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Portway: a self-hosted edge server (reverse proxy, load balancer) with tunnels to local servers.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ProxyCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(HealthcheckCommand.Create());
        root.Subcommands.Add(HashPasswordCommand.Create());
        // The agent: tunnels from this machine to an edge (docs/tunnels.md).
        root.Subcommands.Add(HttpCommand.Create());
        root.Subcommands.Add(TcpCommand.Create());
        root.Subcommands.Add(StartCommand.Create());
        root.Subcommands.Add(TokenCommand.Create());
        // System.CommandLine ends the process 2 s after SIGTERM/Ctrl+C by default, cutting every drain short;
        // the edge's stop is bounded by HostOptions.ShutdownTimeout (30 s, EdgeHost) instead.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(35) });
    }
}
