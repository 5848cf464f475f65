using System.CommandLine;
using Portway.Configuration;

namespace Portway.Cli;

/// <summary>`portway validate FILE`: checks a config without starting anything. Exit 0 when valid, 1 when not (like nginx -t, caddy validate, haproxy -c).</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The config file to check." };
        var command = new Command("validate", "Check a config file and report every error as file:line:column.") { file };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!.FullName;
            try
            {
                var config = ConfigLoader.LoadFile(path);
                Console.WriteLine($"{path}: ok ({config.Routes.Length} routes, {config.Clusters.Length} clusters, {config.Listeners.Length} listeners)");
                return 0;
            }
            catch (ConfigException e)
            {
                foreach (var error in e.Errors) Console.Error.WriteLine(error);
                Console.Error.WriteLine($"{e.Errors.Count} error(s)");
                return 1;
            }
        });
        return command;
    }
}
