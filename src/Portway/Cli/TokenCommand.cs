using System.CommandLine;
using Portway.Agent;
using Portway.Edge.Tunnels;

namespace Portway.Cli;

/// <summary>`portway token add TOKEN` (agent side) and `portway token hash TOKEN` (edge side: the sha256 for tunnels.tokens).</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var command = new Command("token", "Store a tunnel token for the agent, or hash one for the edge's config.");

        var addToken = new Argument<string>("token") { Description = "The token the edge's operator gave you." };
        var add = new Command("add", "Store the token in the user config (mode 0600), used by http, tcp and start.") { addToken };
        add.SetAction(parse =>
        {
            var token = parse.GetValue(addToken)!.Trim();
            if (token.Length == 0 || token.Any(char.IsWhiteSpace))
            {
                Console.Error.WriteLine("portway: a token is one word without spaces");
                return 2;
            }
            var path = UserConfig.DefaultPath;
            UserConfig.SaveToken(path, token);
            Console.WriteLine($"Token saved to {path}");
            return 0;
        });

        var hashToken = new Argument<string>("token") { Description = "The token to hash." };
        var hash = new Command("hash", "Print the SHA-256 of a token, for tunnels.tokens[].sha256 in the edge's config.") { hashToken };
        hash.SetAction(parse =>
        {
            Console.WriteLine(TokenAuthenticator.Hash(parse.GetValue(hashToken)!.Trim()));
            return 0;
        });

        command.Subcommands.Add(add);
        command.Subcommands.Add(hash);
        return command;
    }
}
