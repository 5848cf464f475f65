using System.CommandLine;
using Portway.Protocol;

namespace Portway.Cli;

/// <summary>`portway http PORT|HOST:PORT|URL`: a public URL for a local web server.</summary>
internal static class HttpCommand
{
    public static Command Create() => AgentCommand(TunnelKind.Http, "http", "Give a local web server a public URL through the edge.",
        "The local server: PORT (on localhost), HOST:PORT or a URL such as https://localhost:8443.");

    public static Command AgentCommand(TunnelKind kind, string name, string description, string targetHelp)
    {
        var target = new Argument<string>(kind == TunnelKind.Http ? "target" : "port") { Description = targetHelp };
        var flags = new AgentFlags();
        var command = new Command(name, description) { target };
        flags.AddTo(command, kind);
        command.SetAction((parse, ct) =>
        {
            var errors = new List<string>();
            var tunnel = flags.BuildTunnel(parse, kind, parse.GetValue(target)!, errors);
            return AgentRunner.RunAsync(flags.Connection(parse), tunnel is null ? [] : [tunnel], errors, ct);
        });
        return command;
    }
}
