using System.Globalization;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portway.Edge.Rules.Auth;

/// <summary>
/// What was wrong with a token, in one sentence for the 401 page, the log and the
/// <c>error_description</c> of <c>WWW-Authenticate</c> (RFC 6750 §3). Built from the validator's
/// exception, never from its message (IdentityModel's messages carry "IDX…" codes and PII notices)
/// and never echoing the token itself.
/// </summary>
internal static class TokenProblem
{
    /// <param name="token">The token as read without checks, when it parses: the validator's exceptions do not all carry the value they refused.</param>
    public static string Describe(Exception? problem, JsonWebToken? token, IReadOnlyList<string> issuers, IReadOnlyList<string> audiences, IReadOnlyList<string> algorithms) => problem switch
    {
        // Checked first: a token whose algorithm is not allowed finds no key either, which would hide why.
        _ when token is not null && !algorithms.Contains(token.Alg) => $"the token's algorithm {Shown(token.Alg)} is not allowed here",
        SecurityTokenExpiredException e => $"the token expired at {Time(e.Expires)}",
        SecurityTokenNotYetValidException e => $"the token is not valid before {Time(e.NotBefore)}",
        SecurityTokenNoExpirationException => "the token has no expiry time (exp)",
        SecurityTokenInvalidAudienceException e => $"the token's audience was {Shown(e.InvalidAudience ?? (token is null ? null : string.Join(" ", token.Audiences)))}, expected {string.Join(" or ", audiences)}",
        SecurityTokenInvalidIssuerException e => $"the token's issuer was {Shown(e.InvalidIssuer ?? token?.Issuer)}, expected {string.Join(" or ", issuers)}",
        SecurityTokenSignatureKeyNotFoundException => "the token is signed with a key this site does not know",
        SecurityTokenInvalidSignatureException => "the token's signature does not verify",
        SecurityTokenMalformedException or ArgumentException => "the token is not a well-formed JWT",
        _ => "the token is not valid",
    };

    /// <summary>
    /// A quoted-string RFC 6750 §3 allows in error_description: %x20-21 / %x23-5B / %x5D-7E, so
    /// nothing the client sent (an audience, an algorithm name) can break out of the header.
    /// </summary>
    public static string HeaderSafe(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text) sb.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '?');
        return sb.ToString();
    }

    private static string Time(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A value the client chose, cut short: shown so the operator sees the mismatch, not as an echo channel.</summary>
    private static string Shown(string? value) =>
        string.IsNullOrEmpty(value) ? "(none)" : "'" + (value.Length > 80 ? value[..80] + "…" : value) + "'";
}
