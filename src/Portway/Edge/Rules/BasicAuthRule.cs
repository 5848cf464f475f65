using System.Collections.Immutable;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>basic_auth</c>: RFC 7617 credentials checked against salted, slow password hashes (bcrypt or
/// PBKDF2, <see cref="PasswordHash"/>; never plain text in the file), from the config or an Apache
/// htpasswd file, 401 without valid ones. The Authorization header is removed before forwarding:
/// the credentials are the edge's, not the server's.
/// </summary>
internal sealed class BasicAuthRule : RuleKind<BasicAuthRule.Config>
{
    internal sealed record User(string Name, string PasswordHash);

    internal sealed record Config(string Realm, EquatableArray<User> Users) : RuleConfig
    {
        public override string Kind => "basic_auth";
    }

    public override string Name => "basic_auth";

    public override string[] Keys { get; } = ["realm", "users", "htpasswd"];

    public override Config? Read(YamlSection ba)
    {
        var users = ImmutableArray.CreateBuilder<User>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        // password_sha256 stays a known key so that its error says how to move on, not "unknown key".
        foreach (var u in ba.List("users", "name", "password_hash", "password_sha256"))
        {
            var name = u.String("name", required: true);
            if (name is not null && name.Contains(':')) u.Error("name", "a basic-auth user name cannot contain ':'");
            if (u.Has("password_sha256"))
            {
                u.Error("password_sha256", "is no longer accepted: an unsalted SHA-256 is guessed quickly from a leaked config; "
                    + "write password_hash: with the output of `portway hash-password` (bcrypt) instead");
                continue;
            }
            var hash = u.String("password_hash", required: true);
            if (hash is not null && PasswordHash.Parse(hash, out var error) is null) u.Error("password_hash", error!);
            else if (name is not null && hash is not null && !name.Contains(':'))
            {
                if (names.Add(name)) users.Add(new User(name, hash));
                else u.Error("name", $"user '{name}' is listed twice");
            }
        }
        if (ba.String("htpasswd") is { } file) ReadHtpasswd(ba, file, users, names);
        if (!ba.Has("users") && !ba.Has("htpasswd"))
            ba.Error("users", "is required: a list of {name, password_hash}, or htpasswd: FILE");
        return new Config(ba.String("realm") ?? "Portway", users.ToImmutable());
    }

    /// <summary>
    /// Apache's format: one <c>user:hash</c> per line, # comments. Read when the config is loaded
    /// (and on every reload), so its users are part of the rule's config and a changed file is a changed rule.
    /// </summary>
    private static void ReadHtpasswd(YamlSection ba, string file, ImmutableArray<User>.Builder users, HashSet<string> names)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ba.Error("htpasswd", $"'{file}' cannot be read ({e.Message}); give the path of a file written by htpasswd -B");
            return;
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                ba.Error("htpasswd", $"{file}:{i + 1}: is not 'user:hash'");
                continue;
            }
            var (name, hash) = (line[..colon], line[(colon + 1)..]);
            if (PasswordHash.Parse(hash, out var error) is null) ba.Error("htpasswd", $"{file}:{i + 1}: user '{name}': the hash {error}");
            else if (!names.Add(name)) ba.Error("htpasswd", $"{file}:{i + 1}: user '{name}' is already listed");
            else users.Add(new User(name, hash));
        }
    }

    public override Rule Compile(Config config, RuleServices services) => new BasicAuthCheck(config);
}
