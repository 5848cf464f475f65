using System.Collections.Immutable;
using System.Net;

namespace Portway.Configuration;

/// <summary>Reads routes[].access: allow/deny, rate_limit, basic_auth.</summary>
internal static class AccessSection
{
    /// <summary>What a rate-limit bucket counts; header:NAME stands for any header name.</summary>
    internal static readonly string[] RateLimitKeys = ["client_ip", "route", "header:NAME"];

    public static AccessConfig? Read(YamlSection route)
    {
        var a = route.Child("access", "allow", "deny", "rate_limit", "basic_auth");
        if (a is null) return null;
        var config = new AccessConfig { Allow = Networks(a, "allow"), Deny = Networks(a, "deny") };

        var rl = a.Child("rate_limit", "requests", "per", "burst", "key");
        if (rl is not null)
        {
            var key = rl.String("key") ?? "client_ip";
            if (key != "client_ip" && key != "route" && !(key.StartsWith("header:", StringComparison.Ordinal) && key.Length > 7))
                rl.Error("key", $"'{key}' is not allowed; allowed: client_ip, route, header:NAME");
            var requests = rl.Int("requests", 1, 10_000_000);
            if (requests is null && !rl.Has("requests")) rl.Error("requests", "is required: how many requests per period, e.g. requests: 100");
            config = config with
            {
                RateLimit = new RateLimitConfig(requests ?? 1, rl.Duration("per", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(1), rl.Int("burst", 0, 10_000_000) ?? 0, key),
            };
        }

        var ba = a.Child("basic_auth", "realm", "users");
        if (ba is not null)
        {
            var users = ImmutableArray.CreateBuilder<BasicAuthUser>();
            foreach (var u in ba.List("users", "name", "password_sha256"))
            {
                var name = u.String("name", required: true);
                var hash = u.String("password_sha256", required: true);
                if (name is not null && name.Contains(':')) u.Error("name", "a basic-auth user name cannot contain ':'");
                if (hash is not null && (hash.Length != 64 || !hash.All(Uri.IsHexDigit)))
                    u.Error("password_sha256", "must be the 64-hex-digit SHA-256 of the password; make it with: printf %s 'PASSWORD' | sha256sum");
                if (name is not null && hash is not null) users.Add(new BasicAuthUser(name, hash.ToLowerInvariant()));
            }
            if (users.Count == 0 && !ba.Has("users")) ba.Error("users", "is required: a list of {name, password_sha256}");
            config = config with { BasicAuth = new BasicAuthConfig(ba.String("realm") ?? "Portway", users.ToImmutable()) };
        }
        return config;
    }

    private static ImmutableArray<IPNetwork> Networks(YamlSection s, string key)
    {
        var result = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var (text, node) in s.StringList(key))
        {
            if (ConfigValues.TryParseNetwork(text, out var n)) result.Add(n);
            else s.Context.Error(node, s.Join(key), $"'{text}' is not an address or CIDR; write it like 10.0.0.0/8 or 192.168.1.7");
        }
        return result.ToImmutable();
    }
}
