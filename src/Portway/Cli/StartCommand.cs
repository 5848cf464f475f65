using System.Collections.Immutable;
using System.CommandLine;
using Portway.Agent;
using Portway.Configuration;

namespace Portway.Cli;

/// <summary>`portway start [NAME…] | --all`: runs tunnels defined in the agent config file, in one agent.</summary>
internal static class StartCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("names") { Description = "Tunnels to start (keys under tunnels: in the config file).", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Start every tunnel in the file." };
        var config = new Option<FileInfo?>("--config", "-c") { Description = "Agent config file (default: the user config, see `portway token add`)." };
        var edge = new Option<string?>("--edge") { Description = "Override the file's edge." };
        var command = new Command("start", "Start tunnels from the agent config file.") { names, all, config, edge };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(config)?.FullName ?? UserConfig.DefaultPath;
            AgentConfigLoader.AgentFile file;
            try
            {
                file = AgentConfigLoader.Load(path);
            }
            catch (ConfigException e)
            {
                foreach (var error in e.Errors) Console.Error.WriteLine(error);
                Console.Error.WriteLine($"portway: {e.Errors.Count} error(s) in the agent config; nothing was started.");
                return 2;
            }
            var wanted = parse.GetValue(names) ?? [];
            var errors = new List<string>();
            ImmutableArray<AgentTunnelOptions> tunnels;
            if (parse.GetValue(all)) tunnels = file.Tunnels;
            else if (wanted.Length == 0)
            {
                Console.Error.WriteLine($"portway: name the tunnels to start, or --all. Defined in {path}: {(file.Tunnels.IsEmpty ? "none" : string.Join(", ", file.Tunnels.Select(t => t.Id)))}");
                return 2;
            }
            else
            {
                var builder = ImmutableArray.CreateBuilder<AgentTunnelOptions>();
                foreach (var name in wanted)
                {
                    var found = file.Tunnels.FirstOrDefault(t => t.Id == name);
                    if (found is null)
                    {
                        var hint = Nearest.Find(name, file.Tunnels.Select(t => t.Id));
                        errors.Add($"no tunnel '{name}' in {path}{(hint is null ? "" : $" (did you mean '{hint}'?)")}");
                    }
                    else builder.Add(found);
                }
                tunnels = builder.ToImmutable();
            }
            if (tunnels.IsEmpty && errors.Count == 0) errors.Add($"{path} defines no tunnels (add them under tunnels:)");
            return await AgentRunner.RunAsync(new AgentRunner.Connection(parse.GetValue(edge), null, null, null, false), tunnels, errors, ct, file);
        });
        return command;
    }
}
