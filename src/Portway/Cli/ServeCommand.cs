using System.CommandLine;
using Portway.Configuration;
using Portway.Edge;

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
                foreach (var error in e.Errors) Console.Error.WriteLine(error);
                Console.Error.WriteLine($"portway: {e.Errors.Count} error(s) in the config; nothing was started.");
                return 2;
            }
            await using var host = EdgeHost.Create(loaded, file?.FullName);
            try
            {
                await host.StartAsync(ct);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"portway: cannot listen: {e.Message}");
                Console.Error.WriteLine("Another program may use the port; pick another in listeners[].url (or stop the other program).");
                return 1;
            }
            Console.WriteLine($"Portway {VersionCommand.Version} serving {(file is null ? "built-in defaults (no config file)" : file.FullName)}");
            foreach (var (url, purpose) in host.Addresses) Console.WriteLine($"listening on {url}  {purpose}");
            await host.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }
}
