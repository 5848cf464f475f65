using System.CommandLine;
using System.Text;
using Portway.Configuration;

namespace Portway.Cli;

/// <summary>
/// `portway proxy --to URL…`: a reverse proxy in one line, like `caddy reverse-proxy`. It writes
/// the config a file would hold and reads it back through the same loader, so flags get exactly
/// the file's validation; errors name the flag instead of a line.
/// </summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var to = new Option<string[]>("--to") { Description = "Server to send requests to (repeat for load balancing), e.g. http://127.0.0.1:3000", Required = true, AllowMultipleArgumentsPerToken = true };
        var from = new Option<string>("--from") { Description = "Address to listen on", DefaultValueFactory = _ => "http://localhost:8080" };
        var host = new Option<string[]>("--host") { Description = "Only answer for this host name (repeatable; *.example.com allowed). Default: any host." };
        var lb = new Option<string>("--lb") { Description = $"Load-balancing policy: {string.Join(", ", LoadBalancingNames.All)}", DefaultValueFactory = _ => LoadBalancingNames.RoundRobin };
        var health = new Option<string?>("--health") { Description = "Path to probe every 5 s; servers failing it get no traffic, e.g. /healthz" };
        var admin = new Option<string>("--admin") { Description = "Admin listener (/metrics, /healthz), or false", DefaultValueFactory = _ => "http://127.0.0.1:9090" };
        var accessLog = new Option<bool>("--access-log") { Description = "Write the JSON access log to stdout", DefaultValueFactory = _ => true };
        var command = new Command("proxy", "Run a reverse proxy from flags alone (no config file).") { to, from, host, lb, health, admin, accessLog };
        command.SetAction(async (parse, ct) =>
        {
            var yaml = BuildYaml(parse.GetValue(to)!, parse.GetValue(from)!, parse.GetValue(host) ?? [], parse.GetValue(lb)!, parse.GetValue(health), parse.GetValue(admin)!, parse.GetValue(accessLog));
            PortwayConfig config;
            try
            {
                config = ConfigLoader.Parse(yaml, "(command line)");
            }
            catch (ConfigException e)
            {
                return EdgeRunner.ReportErrors(e, error => $"portway proxy: {FlagFor(error.Key)}: {error.Message}");
            }
            return await EdgeRunner.RunAsync(config, null, $"{string.Join(", ", config.Clusters[0].Destinations.Select(d => d.Url))} (portway proxy)", ct);
        });
        return command;
    }

    internal static string BuildYaml(string[] to, string from, string[] hosts, string lb, string? health, string admin, bool accessLog)
    {
        var y = new StringBuilder();
        y.Append("listeners:\n  - url: ").Append(Quote(from)).Append('\n');
        y.Append(admin == "false" ? "admin:\n  enabled: false\n" : $"admin:\n  url: {Quote(admin)}\n");
        y.Append("access_log:\n  enabled: ").Append(accessLog ? "true" : "false").Append('\n');
        y.Append("routes:\n  - id: proxy\n    cluster: proxy\n");
        if (hosts.Length > 0)
        {
            y.Append("    match:\n      hosts:\n");
            foreach (var h in hosts) y.Append("        - ").Append(Quote(h)).Append('\n');
        }
        y.Append("clusters:\n  - id: proxy\n    load_balancing: ").Append(Quote(lb)).Append("\n    destinations:\n");
        foreach (var t in to) y.Append("      - url: ").Append(Quote(t)).Append('\n');
        if (health is not null) y.Append("    health:\n      active:\n        path: ").Append(Quote(health)).Append('\n');
        return y.ToString();
    }

    // Single-quoted YAML scalars take any text; a quote is written twice.
    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string FlagFor(string key) => key switch
    {
        _ when key.StartsWith("listeners", StringComparison.Ordinal) => "--from",
        _ when key.StartsWith("admin", StringComparison.Ordinal) => "--admin",
        _ when key.StartsWith("routes[0].match.hosts", StringComparison.Ordinal) => "--host",
        _ when key.Contains(".destinations", StringComparison.Ordinal) => "--to",
        _ when key.EndsWith("load_balancing", StringComparison.Ordinal) => "--lb",
        _ when key.Contains(".health", StringComparison.Ordinal) => "--health",
        _ => key,
    };
}
