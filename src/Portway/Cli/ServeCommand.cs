using System.CommandLine;
using Portway.Configuration;

namespace Portway.Cli;

/// <summary>`portway serve [--config FILE]`: runs the edge. With no file, built-in defaults.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config", "-c")
        {
            Description = "Config file (YAML or JSON). Without it: listen on http://localhost:8080 with no routes, tunnels under *.localhost.",
        };
        var command = new Command("serve", "Run the edge server.") { config };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(config);
            PortwayConfig loaded;
            try
            {
                loaded = file is null ? new PortwayConfig() : ConfigLoader.LoadFile(file.FullName);
            }
            catch (ConfigException e)
            {
                return EdgeRunner.ReportErrors(e);
            }
            return await EdgeRunner.RunAsync(loaded, file?.FullName, file is null ? "built-in defaults (no config file)" : file.FullName, ct);
        });
        return command;
    }
}
