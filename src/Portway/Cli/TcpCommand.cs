using System.CommandLine;
using Portway.Protocol;

namespace Portway.Cli;

/// <summary>`portway tcp PORT|HOST:PORT`: a public TCP port for a local service (ssh, a database).</summary>
internal static class TcpCommand
{
    public static Command Create() => HttpCommand.AgentCommand(TunnelKind.Tcp, "tcp", "Give a local TCP service a public port on the edge.",
        "The local service: PORT (on localhost) or HOST:PORT.");
}
