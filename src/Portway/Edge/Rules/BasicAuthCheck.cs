using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// A compiled <c>basic_auth</c>. Verifying a bcrypt or PBKDF2 hash takes tens to hundreds of
/// milliseconds by design, and a browser sends the credentials with every request, so a
/// successful check is remembered (as Caddy does): per user, a keyed hash of the password that
/// passed. The memory is bounded by the users of the config, and a reload that changes a password
/// builds a new rule, so an old password is never accepted from it.
/// </summary>
internal sealed class BasicAuthCheck : Rule
{
    private readonly Dictionary<string, PasswordHash> _users = new(StringComparer.Ordinal);
    private readonly PasswordHash _dummy;
    private readonly string _challenge;
    // Random per rule: what the cache holds is useless outside this process (no dictionary of SHA-256s matches it).
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, byte[]> _verified = new(StringComparer.Ordinal);

    private static readonly UnforwardedHeader s_authorization = new(HeaderNames.Authorization);

    public BasicAuthCheck(BasicAuthRule.Config config) : base(config)
    {
        foreach (var u in config.Users) _users[u.Name] = PasswordHash.Parse(u.PasswordHash, out _)!;
        // Unknown names are verified against a hash of the first user's kind and cost, so they take as long as known ones.
        _dummy = config.Users.Length > 0 ? _users[config.Users[0].Name].Dummy() : PasswordHash.Parse("$2b$12$" + new string('.', 53), out _)!;
        _challenge = $"Basic realm=\"{config.Realm}\", charset=\"UTF-8\"";
    }

    public override Task? OnRequest(RuleRequest request)
    {
        var context = request.HttpContext;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!IsAuthorized(authorization))
        {
            context.Response.Headers.WWWAuthenticate = _challenge;
            return ErrorPage.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                "This site needs a user name and password.", "Your browser will ask for them; with curl use -u USER:PASSWORD.");
        }
        // The credentials are the edge's, not the server's: not passed on (dropped on the way out).
        request.DoNotForward(s_authorization);
        return null;
    }

    /// <summary>Checks an Authorization: Basic header (RFC 7617).</summary>
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
        var (name, password) = (decoded[..colon], decoded[(colon + 1)..]);
        var mac = HMACSHA256.HashData(_cacheKey, Encoding.UTF8.GetBytes(password));
        if (_verified.TryGetValue(name, out var known) && CryptographicOperations.FixedTimeEquals(known, mac)) return true;
        if (!_users.TryGetValue(name, out var hash))
        {
            _dummy.Verify(password);
            return false;
        }
        if (!hash.Verify(password)) return false;
        _verified[name] = mac;
        return true;
    }
}
