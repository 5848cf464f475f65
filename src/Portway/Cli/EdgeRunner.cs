using Portway.Configuration;
using Portway.Edge;

namespace Portway.Cli;

/// <summary>Runs an edge until SIGTERM/Ctrl+C: shared by `serve` and `proxy`.</summary>
internal static class EdgeRunner
{
    public static async Task<int> RunAsync(PortwayConfig config, string? path, string description, CancellationToken ct)
    {
        await using var host = EdgeHost.Create(config, path);
        try
        {
            await host.StartAsync(ct);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"portway: cannot listen: {e.Message}");
            Console.Error.WriteLine("Another program may use the port; pick another (listeners[].url, or --from) or stop the other program.");
            return 1;
        }
        Console.WriteLine($"Portway {VersionCommand.Version} serving {description}");
        foreach (var (url, purpose) in host.Addresses) Console.WriteLine($"listening on {url}  {purpose}");
        await host.WaitForShutdownAsync(ct);
        return 0;
    }

    public static int ReportErrors(ConfigException e, Func<ConfigError, string>? format = null)
    {
        foreach (var error in e.Errors) Console.Error.WriteLine(format is null ? error.ToString() : format(error));
        Console.Error.WriteLine($"portway: {e.Errors.Count} error(s) in the config; nothing was started.");
        return 2;
    }
}
