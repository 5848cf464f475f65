using System.Net.Sockets;
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
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            // Kestrel's bind error names no address; the privileged ones are the likely cause.
            var low = new List<string>();
            foreach (var listener in config.Listeners) if (listener.Url.Port < 1024) low.Add($"{listener.Url.Scheme}://{listener.Url.Host}:{listener.Url.Port}");
            if (config.Admin.Url is { Port: < 1024 } admin) low.Add($"{admin.Scheme}://{admin.Host}:{admin.Port}");
            var where = low.Count > 0 ? $" on {string.Join(", ", low)}" : "";
            Console.Error.WriteLine($"portway: cannot listen{where}: permission denied.");
            Console.Error.WriteLine("Ports below 1024 need root or CAP_NET_BIND_SERVICE: run portway as the systemd unit, which grants it (docs/systemd.md); " +
                "or give the native binary the capability (sudo setcap cap_net_bind_service=+ep /usr/bin/portway); in a container pass " +
                "--sysctl net.ipv4.ip_unprivileged_port_start=80 (docs/deploy.md); or listen on a port above 1023.");
            return 1;
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"portway: cannot listen: {e.Message}");
            Console.Error.WriteLine("Check the address in listeners[].url (or --from): it must be an address of this machine.");
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
