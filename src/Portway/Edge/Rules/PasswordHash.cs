using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Portway.Edge.Rules;

/// <summary>
/// A salted, slow password hash as <c>basic_auth</c> accepts it (docs/access.md): bcrypt
/// (<c>$2a$</c>, <c>$2b$</c>, <c>$2y$</c>: what <c>htpasswd -B</c>, <c>caddy hash-password</c> and
/// <c>portway hash-password</c> write) or <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (base64 salt and
/// hash, PBKDF2-HMAC-SHA256, RFC 8018). Parsed once at load; verifying is slow on purpose.
/// </summary>
internal sealed partial class PasswordHash
{
    /// <summary>
    /// OWASP's password storage cheat sheet (2023) asks 600,000 for PBKDF2-HMAC-SHA256; fewer than
    /// 100,000 is refused at load rather than accepted as if it protected the password.
    /// </summary>
    internal const int MinPbkdf2Iterations = 100_000;

    private readonly string? _bcrypt;
    private readonly int _iterations;
    private readonly byte[] _salt = [];
    private readonly byte[] _hash = [];

    private PasswordHash(string bcrypt) => _bcrypt = bcrypt;

    private PasswordHash(int iterations, byte[] salt, byte[] hash) => (_iterations, _salt, _hash) = (iterations, salt, hash);

    /// <summary>Null and what is wrong (with what to do) when <paramref name="text"/> is no accepted hash.</summary>
    public static PasswordHash? Parse(string text, out string? error)
    {
        error = null;
        if (Bcrypt().IsMatch(text))
        {
            var cost = int.Parse(text.AsSpan(4, 2), CultureInfo.InvariantCulture);
            if (cost is >= 4 and <= 31) return new PasswordHash(text);
            error = $"bcrypt cost {cost} is out of range; allowed: 4 to 31";
            return null;
        }
        if (text.StartsWith("pbkdf2-sha256$", StringComparison.Ordinal))
        {
            var parts = text.Split('$');
            if (parts.Length == 4 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
                && TryBase64(parts[2], out var salt) && TryBase64(parts[3], out var hash) && salt.Length >= 8 && hash.Length >= 16)
            {
                if (iterations >= MinPbkdf2Iterations) return new PasswordHash(iterations, salt, hash);
                error = $"{iterations} PBKDF2 iterations are too few; at least {MinPbkdf2Iterations} (OWASP asks 600000); re-hash with: portway hash-password";
                return null;
            }
            error = "is not pbkdf2-sha256$ITERATIONS$SALT$HASH (base64 salt of 8+ bytes and hash of 16+ bytes)";
            return null;
        }
        error = text switch
        {
            _ when text.StartsWith("$apr1$", StringComparison.Ordinal) || text.StartsWith("$1$", StringComparison.Ordinal) => "is an MD5 crypt hash, which is fast to guess and not accepted; re-hash with: htpasswd -B or portway hash-password",
            _ when text.StartsWith("{SHA}", StringComparison.Ordinal) => "is an unsalted SHA-1 hash, which is not accepted; re-hash with: htpasswd -B or portway hash-password",
            _ => "is not a bcrypt ($2a$, $2b$, $2y$) or pbkdf2-sha256$… hash; make one with: portway hash-password",
        };
        return null;
    }

    /// <summary>
    /// A hash of no password with this one's cost, so a name that does not exist takes as long to
    /// refuse as a wrong password: verifying against it cannot succeed in practice and costs the same.
    /// </summary>
    public PasswordHash Dummy() => _bcrypt is not null
        ? new PasswordHash(string.Concat(_bcrypt.AsSpan(0, 7), new string('.', 53)))
        : new PasswordHash(_iterations, new byte[_salt.Length], new byte[_hash.Length]);

    public bool Verify(string password)
    {
        if (_bcrypt is not null)
        {
            try
            {
                return BCrypt.Net.BCrypt.Verify(password, _bcrypt);
            }
            catch (BCrypt.Net.SaltParseException)
            {
                return false;
            }
        }
        var derived = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), _salt, _iterations, HashAlgorithmName.SHA256, _hash.Length);
        return CryptographicOperations.FixedTimeEquals(derived, _hash);
    }

    /// <summary>A new pbkdf2-sha256 hash (16-byte random salt, 32-byte hash), as portway hash-password --pbkdf2 prints it.</summary>
    public static string NewPbkdf2(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, bytes, out var written)) return false;
        bytes = bytes[..written];
        return true;
    }

    // $2?$CC$ then 22 characters of salt and 31 of hash in bcrypt's base64 alphabet.
    [GeneratedRegex(@"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$")]
    private static partial Regex Bcrypt();
}
