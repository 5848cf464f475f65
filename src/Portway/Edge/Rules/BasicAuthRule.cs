using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>basic_auth</c>: RFC 7617 credentials checked against SHA-256 password hashes (hex; never
/// plain text in the file), 401 without valid ones. The Authorization header is removed before
/// forwarding: the credentials are the edge's, not the server's.
/// </summary>
internal sealed class BasicAuthRule : RuleKind<BasicAuthRule.Config>
{
    internal sealed record User(string Name, string PasswordSha256);

    internal sealed record Config(string Realm, EquatableArray<User> Users) : RuleConfig
    {
        public override string Kind => "basic_auth";
    }

    public override string Name => "basic_auth";

    public override string[] Keys { get; } = ["realm", "users"];

    public override Config? Read(YamlSection ba)
    {
        var users = ImmutableArray.CreateBuilder<User>();
        foreach (var u in ba.List("users", "name", "password_sha256"))
        {
            var name = u.String("name", required: true);
            var hash = u.String("password_sha256", required: true);
            if (name is not null && name.Contains(':')) u.Error("name", "a basic-auth user name cannot contain ':'");
            if (hash is not null && (hash.Length != 64 || !hash.All(Uri.IsHexDigit)))
                u.Error("password_sha256", "must be the 64-hex-digit SHA-256 of the password; make it with: printf %s 'PASSWORD' | sha256sum");
            if (name is not null && hash is not null) users.Add(new User(name, hash.ToLowerInvariant()));
        }
        if (users.Count == 0 && !ba.Has("users")) ba.Error("users", "is required: a list of {name, password_sha256}");
        return new Config(ba.String("realm") ?? "Portway", users.ToImmutable());
    }

    public override Rule Compile(Config config) => new Check(config);

    private sealed class Check : Rule
    {
        private static readonly byte[] DummyHash = SHA256.HashData("portway-no-such-user"u8);

        private readonly Dictionary<string, byte[]> _users = new(StringComparer.Ordinal);
        private readonly string _challenge;

        public Check(Config config) : base(config)
        {
            foreach (var u in config.Users) _users[u.Name] = Convert.FromHexString(u.PasswordSha256);
            _challenge = $"Basic realm=\"{config.Realm}\", charset=\"UTF-8\"";
        }

        public override Task? OnRequest(HttpContext context, string routeId, ILogger logger)
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            if (!IsAuthorized(authorization))
            {
                context.Response.Headers.WWWAuthenticate = _challenge;
                return ErrorPage.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                    "This site needs a user name and password.", "Your browser will ask for them; with curl use -u USER:PASSWORD.");
            }
            // The credentials are the edge's, not the server's: don't pass them on.
            context.Request.Headers.Authorization = default;
            return null;
        }

        /// <summary>Checks an Authorization: Basic header (RFC 7617). Password hashes are compared in constant time.</summary>
        private bool IsAuthorized(string authorization)
        {
            if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            }
            catch (FormatException)
            {
                return false;
            }
            var colon = decoded.IndexOf(':');
            if (colon < 0) return false;
            var given = SHA256.HashData(Encoding.UTF8.GetBytes(decoded[(colon + 1)..]));
            // Unknown users are compared against a dummy hash so timing does not reveal which names exist.
            var expected = _users.TryGetValue(decoded[..colon], out var hash) ? hash : DummyHash;
            return CryptographicOperations.FixedTimeEquals(given, expected) && hash is not null;
        }
    }
}
