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
        var (idToken, failure) = await provider.ExchangeAsync(configuration, code, login.CodeVerifier, OidcGate.RedirectUri(context.Request, config), context.RequestAborted);
        JsonWebToken? token = null;
        if (idToken is not null) (token, failure) = await provider.ValidateAsync(configuration, idToken, login.Nonce, logger, context.RequestAborted);
        if (token is null)
        {
            OidcGate.LogCallbackFailed(logger, routeId, config.Issuer.AbsoluteUri, failure ?? "no id_token");
            await ErrorPage.WriteAsync(context, StatusCodes.Status502BadGateway, "Bad Gateway",
                $"The login provider's answer could not be used: {failure}.",
                "Try again; if it lasts, the site's operator should check the oidc client_id, client_secret and the redirect URI registered at the provider.");
            return;
        }
        var session = SessionOf(token);
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

    private OidcSession SessionOf(JsonWebToken token)
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
            (time.GetUtcNow() + config.SessionLifetime).ToUnixTimeSeconds());
    }
}
