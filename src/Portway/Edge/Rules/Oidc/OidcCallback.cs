using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Portway.Edge.ErrorPages;

namespace Portway.Edge.Rules;

/// <summary>
/// The provider's redirect back (OIDC Core §3.1.2.5): the state must be one this browser started
/// (its login cookie), the code is exchanged with the PKCE verifier, the id_token validated, the
/// allow lists checked, and the session cookie set before going back where the login began.
/// </summary>
internal sealed class OidcCallback(OidcRule.Config config, OidcProvider provider, OidcCookies cookies, TimeProvider time, ILogger logger)
{
    public async Task HandleAsync(HttpContext context, string routeId)
    {
        var query = context.Request.Query;
        var state = query["state"].ToString();
        var login = state.Length >= OidcCookies.StatePrefixLength ? cookies.ReadLogin(context, state, time) : null;
        if (login is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(state), Encoding.ASCII.GetBytes(login.State)))
        {
            await ErrorPage.WriteAsync(context, StatusCodes.Status400BadRequest, "Bad Request",
                "This login cannot be matched to one this browser started: it took longer than 10 minutes, cookies are blocked, or the link was not made by this site.",
                "Open the site again to log in.");
            return;
        }
        // One use: a replayed callback finds no login cookie.
        cookies.DeleteLogin(context, state);
        if (query["error"].ToString() is { Length: > 0 } error)
        {
            var description = query["error_description"].ToString();
            await ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"The login provider did not sign you in: {error}{(description.Length > 0 ? $" ({description})" : "")}.",
                "Open the site again to try once more.");
            return;
        }
        var code = query["code"].ToString();
        if (code.Length == 0)
        {
            await ErrorPage.WriteAsync(context, StatusCodes.Status400BadRequest, "Bad Request",
                "The login provider came back without an authorization code.", "Open the site again to log in.");
            return;
        }
        if (await provider.GetAsync(logger, context.RequestAborted) is not { } configuration)
        {
            await OidcGate.Unavailable(context);
            return;
        }
        var (answer, failure) = await provider.ExchangeAsync(configuration, code, login.CodeVerifier, OidcGate.RedirectUri(context.Request, config), context.RequestAborted);
        JsonWebToken? token = null;
        if (answer?.IdToken is { } idToken) (token, failure) = await provider.ValidateAsync(configuration, idToken, login.Nonce, null, logger, context.RequestAborted);
        if (token is null || answer is null)
        {
            OidcGate.LogCallbackFailed(logger, routeId, config.Issuer.AbsoluteUri, failure ?? "no id_token");
            await ErrorPage.WriteAsync(context, StatusCodes.Status502BadGateway, "Bad Gateway",
                $"The login provider's answer could not be used: {failure}.",
                "Try again; if it lasts, the site's operator should check the oidc client_id, client_secret and the redirect URI registered at the provider.");
            return;
        }
        var session = SessionOf(config, token, answer.IdToken!, answer.RefreshToken, answer.ExpiresIn, time.GetUtcNow());
        if (!OidcAccess.IsAllowed(config, session))
        {
            OidcGate.LogRefused(logger, session.Email, routeId);
            await OidcAccess.RefuseAsync(context, config, session.Email, session.EmailVerified);
            return;
        }
        OidcGate.LogSignedIn(logger, session.Email, routeId, config.Issuer.AbsoluteUri);
        cookies.WriteSession(context, session);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Redirect(OidcGate.SafeReturnUrl(login.ReturnUrl));
    }

    /// <summary>The session an id_token makes, at login and at each renewal.</summary>
    internal static OidcSession SessionOf(OidcRule.Config config, JsonWebToken token, string idToken, string? refreshToken, long? expiresIn, DateTimeOffset now)
    {
        var groups = new List<string>();
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? email = null;
        var verified = false;
        // Arrays come as one claim per item; booleans as "true"/"false" (some providers send them as strings).
        foreach (var claim in token.Claims)
        {
            if (claim.Type == config.GroupsClaim) groups.Add(claim.Value);
            if (claim.Type == "email") email = claim.Value;
            if (claim.Type == "email_verified") verified = string.Equals(claim.Value, "true", StringComparison.OrdinalIgnoreCase);
            foreach (var map in config.ClaimsToHeaders)
            {
                if (map.Claim != claim.Type) continue;
                if (!values.TryGetValue(map.Header, out var list)) values[map.Header] = list = [];
                list.Add(claim.Value);
            }
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (header, list) in values)
        {
            // A value with a line break or NUL would split the request; such a claim is left out.
            var value = string.Join(',', list);
            if (value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0) headers[header] = value;
        }
        return new OidcSession(token.Subject ?? "", email, verified, OidcAccess.KeptGroups(config, groups), headers,
            (now + config.SessionLifetime).ToUnixTimeSeconds(), idToken, refreshToken,
            refreshToken is null ? 0 : RefreshAt(config, now, token.ValidTo, expiresIn));
    }

    /// <summary>
    /// When a session with a refresh token is renewed: every refresh_after if given; else when the
    /// id_token or the access token (expires_in) ends, whichever is first (the claims are only as
    /// current as they are), an hour when neither says. Never within a minute, so a provider
    /// whose tokens are born nearly expired (a skewed clock) does not get a refresh per request.
    /// </summary>
    internal static long RefreshAt(OidcRule.Config config, DateTimeOffset now, DateTime idTokenExpiry, long? expiresIn)
    {
        var at = now + (config.RefreshAfter ?? TimeSpan.FromHours(1));
        if (config.RefreshAfter is null)
        {
            if (idTokenExpiry > DateTime.MinValue && new DateTimeOffset(idTokenExpiry, TimeSpan.Zero) < at) at = new DateTimeOffset(idTokenExpiry, TimeSpan.Zero);
            if (expiresIn is > 0 && now.AddSeconds(expiresIn.Value) < at) at = now.AddSeconds(expiresIn.Value);
        }
        var soonest = now + TimeSpan.FromMinutes(1);
        return (at < soonest ? soonest : at).ToUnixTimeSeconds();
    }
}
