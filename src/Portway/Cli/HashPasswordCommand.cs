using System.CommandLine;
using System.Text;
using Portway.Edge.Rules;

namespace Portway.Cli;

/// <summary>
/// `portway hash-password`: the hash for basic_auth's password_hash (docs/access.md), like
/// `caddy hash-password` and `htpasswd -nB`. The password comes from stdin when it is piped, else
/// from a prompt without echo, asked twice; never from an argument, which the shell history and
/// every user's `ps` would show.
/// </summary>
internal static class HashPasswordCommand
{
    /// <summary>
    /// 2^12 rounds: about 0.2 s per check on a current server core, paid once per user and password
    /// (basic_auth remembers a success). htpasswd -B defaults to 5, BCrypt.Net to 11, Caddy to 14;
    /// OWASP asks at least 10.
    /// </summary>
    internal const int DefaultCost = 12;

    /// <summary>OWASP's password storage cheat sheet (2023) for PBKDF2-HMAC-SHA256.</summary>
    internal const int Pbkdf2Iterations = 600_000;

    public static Command Create()
    {
        var cost = new Option<int>("--cost")
        {
            Description = $"bcrypt's cost: 2^COST rounds, 4 to 31 (default {DefaultCost}).",
            DefaultValueFactory = _ => DefaultCost,
        };
        var algorithm = new Option<string>("--algorithm")
        {
            Description = $"bcrypt (default) or pbkdf2-sha256 ({Pbkdf2Iterations} iterations; for FIPS-only systems).",
            DefaultValueFactory = _ => "bcrypt",
        };
        algorithm.AcceptOnlyFromAmong("bcrypt", "pbkdf2-sha256");
        var command = new Command("hash-password", "Print the hash of a password for basic_auth's password_hash (reads stdin, or prompts without echo).") { cost, algorithm };
        command.SetAction(parse =>
        {
            var rounds = parse.GetValue(cost);
            if (rounds is < 4 or > 31)
            {
                Console.Error.WriteLine($"portway hash-password: --cost: {rounds} is out of range; allowed: 4 to 31");
                return 2;
            }
            var password = Console.IsInputRedirected ? ReadPiped() : Prompt();
            if (password is null) return 2;
            if (password.Length == 0)
            {
                Console.Error.WriteLine("portway hash-password: the password is empty; type one, or pipe it: printf %s 'PASSWORD' | portway hash-password");
                return 2;
            }
            Console.WriteLine(parse.GetValue(algorithm) == "pbkdf2-sha256"
                ? PasswordHash.NewPbkdf2(password, Pbkdf2Iterations)
                : BCrypt.Net.BCrypt.HashPassword(password, BCrypt.Net.BCrypt.GenerateSalt(rounds, 'b')));
            return 0;
        });
        return command;
    }

    /// <summary>The first line of stdin, so both `printf %s PW |` and `echo PW |` give the same hash.</summary>
    private static string ReadPiped() => Console.In.ReadLine()?.TrimEnd('\r') ?? "";

    private static string? Prompt()
    {
        var first = ReadHidden("Password: ");
        var second = ReadHidden("Again: ");
        if (first == second) return first;
        Console.Error.WriteLine("portway hash-password: the two passwords differ; nothing was hashed");
        return null;
    }

    private static string ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; }
            else if (key.KeyChar != '\0') text.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}
