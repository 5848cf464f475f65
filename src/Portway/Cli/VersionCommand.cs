using System.CommandLine;

namespace Portway.Cli;

internal static class VersionCommand
{
    public static string Version => ProductVersion.Value;

    public static Command Create()
    {
        var command = new Command("version", "Print the version.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"portway {Version} (.NET {Environment.Version})");
            return 0;
        });
        return command;
    }
}
