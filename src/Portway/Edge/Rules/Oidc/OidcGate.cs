using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// The compiled <c>oidc</c> rule. A request with a valid session passes on (session cookie taken
/// out, claim headers set); the callback and logout paths are answered here; anything else is
/// sent to the provider (a browser navigation) or refused with 401 (an API call, which cannot
/// follow a login page).
/// </summary>
internal sealed partial class OidcGate : Rule
{
    private readonly OidcRule.Config _config;
    private readonly OidcProvider _provider;
    private readonly OidcRenewal _renewal;
    private readonly string _scope;
    private readonly RuleServices _services;
    private volatile OidcCookies? _cookies;

    public OidcGate(OidcRule.Config config, RuleServices services) : base(config)
    {
        _services = services;
        _config = config;
        _provider = new OidcProvider(config);
        _renewal = new OidcRenewal(config, _provider);
        _scope = string.Join(' ', config.Scopes);
    }

    public override bool IsAsync => true;

    public override Task? OnRequest(RuleRequest request) =>
        throw new NotSupportedException("oidc runs through OnRequestAsync");

    public override ValueTask<bool> OnRequestAsync(RuleRequest request) => GateAsync(request.HttpContext, request.RouteId, request.Logger);

    private async ValueTask<bool> GateAsync(HttpContext context, string routeId, ILogger logger)
    {
        var request = context.Request;
        var cookies = Cookies(context);
        var time = _services.Time;
        var path = request.Path.Value;
        if (path == _config.CallbackPath)
        {
            await new OidcCallback(_config, _provider, cookies, time, logger).HandleAsync(context, routeId);
            return true;
        }
        if (path == _config.LogoutPath)
        {
            await LogoutAsync(context, cookies, time, logger);
            return true;
        }
        if (cookies.ReadSession(context, time) is { } session)
        {
            if (session.RefreshToken is not null && session.RefreshAtUnixSeconds <= time.GetUtcNow().ToUnixTimeSeconds())
            {
                if (await _renewal.RenewAsync(session, time, routeId, logger) is not { } renewed)
                {
                    cookies.DeleteSession(context);
                    await NoSessionAsync(context, cookies, time, logger);
                    return true;
                }
                cookies.WriteSession(context, session = renewed);
            }
            // Checked on every request, not only at login: a reload that narrows the lists applies at once.
            if (!OidcAccess.IsAllowed(_config, session))
            {
                await OidcAccess.RefuseAsync(context, _config, session.Email, session.EmailVerified);
                return true;
            }
            PassOn(request, cookies, session);
            return false;
        }
        await NoSessionAsync(context, cookies, time, logger);
        return true;
    }

    private Task NoSessionAsync(HttpContext context, OidcCookies cookies, TimeProvider time, ILogger logger) =>
        IsNavigation(context.Request)
            ? StartLoginAsync(context, cookies, time, logger)
            : ErrorPage.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                "This site needs you to log in first.",
                $"Open it in a browser to log in at {_config.Issuer.Host}; a script or API call cannot follow the login page.");

    /// <summary>The server sees the user through the configured headers only; a client's own headers of those names never get through.</summary>
    private void PassOn(HttpRequest request, OidcCookies cookies, OidcSession session)
    {
        cookies.StripSession(request);
        foreach (var map in _config.ClaimsToHeaders)
        {
            request.Headers.Remove(map.Header);
            if (session.Headers.TryGetValue(map.Header, out var value)) request.Headers[map.Header] = value;
        }
    }

    /// <summary>
    /// Browsers get redirected; everything else gets 401. A navigation is a GET/HEAD that accepts
    /// HTML and is not marked as a script's (X-Requested-With, or Sec-Fetch-Mode other than navigate).
    /// </summary>
    private static bool IsNavigation(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return false;
        if (!request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)) return false;
        if (request.Headers.ContainsKey("X-Requested-With")) return false;
        var mode = request.Headers["Sec-Fetch-Mode"].ToString();
        return mode.Length == 0 || mode == "navigate";
    }

    /// <summary>The authorization request of OIDC Core §3.1.2.1 with RFC 7636 S256; state, nonce and verifier wait in the login cookie.</summary>
    private async Task StartLoginAsync(HttpContext context, OidcCookies cookies, TimeProvider time, ILogger logger)
    {
        if (await _provider.GetAsync(logger, context.RequestAborted) is not { } provider || string.IsNullOrEmpty(provider.AuthorizationEndpoint))
        {
            await Unavailable(context);
            return;
        }
        var request = context.Request;
        var login = new OidcLoginState(RandomToken(), RandomToken(), RandomToken(),
            SafeReturnUrl(request.PathBase.ToUriComponent() + request.Path.ToUriComponent() + request.QueryString.ToUriComponent()),
            (time.GetUtcNow() + OidcCookies.LoginTimeout).ToUnixTimeSeconds());
        cookies.WriteLogin(context, login);
        var challenge = Microsoft.AspNetCore.WebUtilities.Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(login.CodeVerifier)));
        var endpoint = provider.AuthorizationEndpoint;
        var url = new StringBuilder(endpoint).Append(endpoint.Contains('?') ? '&' : '?')
            .Append("response_type=code&client_id=").Append(Uri.EscapeDataString(_config.ClientId))
            .Append("&redirect_uri=").Append(Uri.EscapeDataString(RedirectUri(request, _config)))
            .Append("&scope=").Append(Uri.EscapeDataString(_scope))
            .Append("&state=").Append(login.State)
            .Append("&nonce=").Append(login.Nonce)
            .Append("&code_challenge=").Append(challenge)
            .Append("&code_challenge_method=S256");
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Redirect(url.ToString());
    }

    /// <summary>
    /// Clears the session; then the provider's end_session_endpoint (RP-Initiated Logout 1.0 §2)
    /// if it has one, with the session's id_token as id_token_hint (so the provider ends the right
    /// session without asking) and post_logout_redirect_uri if configured; else that page, or a
    /// "signed out" page.
    /// </summary>
    private async Task LogoutAsync(HttpContext context, OidcCookies cookies, TimeProvider time, ILogger logger)
    {
        var idToken = cookies.ReadSession(context, time)?.IdToken;
        cookies.DeleteSession(context);
        context.Response.Headers.CacheControl = "no-store";
        var after = _config.PostLogoutRedirectUri is { } uri ? Absolute(context.Request, uri) : null;
        var provider = await _provider.GetAsync(logger, context.RequestAborted);
        if (provider?.EndSessionEndpoint is { Length: > 0 } endSession)
        {
            var url = new StringBuilder(endSession).Append(endSession.Contains('?') ? '&' : '?')
                .Append("client_id=").Append(Uri.EscapeDataString(_config.ClientId));
            if (idToken is not null) url.Append("&id_token_hint=").Append(Uri.EscapeDataString(idToken));
            if (after is not null) url.Append("&post_logout_redirect_uri=").Append(Uri.EscapeDataString(after));
            context.Response.Redirect(url.ToString());
            return;
        }
        if (after is not null)
        {
            context.Response.Redirect(after);
            return;
        }
        await ErrorPage.WriteAsync(context, StatusCodes.Status200OK, "Signed out",
            "You are signed out of this site.", "Open the site again to sign in.");
    }

    internal static Task Unavailable(HttpContext context) =>
        ErrorPage.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Login unavailable",
            "The login provider cannot be reached, so nobody can log in right now.",
            "Try again in a minute. If it lasts, the site's operator should check the oidc issuer and the edge's network (the edge's log names the cause).");

    /// <summary>Registered at the provider as is: the scheme and host the browser used, and callback_path.</summary>
    internal static string RedirectUri(HttpRequest request, OidcRule.Config config) => Absolute(request, config.CallbackPath);

    /// <summary>A path on the host the browser used, or an absolute URL as it is.</summary>
    private static string Absolute(HttpRequest request, string pathOrUrl) => pathOrUrl.StartsWith('/')
        ? $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}{pathOrUrl}"
        : pathOrUrl;

    /// <summary>
    /// Only a path on this host: "//evil.example" and "/\evil.example" are host changes to a
    /// browser, and anything else is not a path; those go to "/" (no open redirect).
    /// </summary>
    internal static string SafeReturnUrl(string url)
    {
        if (url.Length is 0 or > 2048 || url[0] != '/') return "/";
        if (url.Length > 1 && (url[1] == '/' || url[1] == '\\')) return "/";
        foreach (var c in url)
        {
            if (c < 0x21 || c > 0x7e) return "/";
        }
        return url;
    }

    /// <summary>256 random bits, base64url: unguessable state/nonce, and a verifier within RFC 7636 §4.1's 43–128 characters.</summary>
    private static string RandomToken() => Microsoft.AspNetCore.WebUtilities.Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The key ring lives beside the ACME state; tls.acme.storage is compared per request (one
    /// string compare) so a reload that moves it moves the ring for the next login.
    /// </summary>
    private OidcCookies Cookies(HttpContext context)
    {
        var storage = _services.Get<EdgeState>().Current.Tls.Acme.Storage;
        var cookies = _cookies;
        if (cookies is not null && cookies.AcmeStorage == storage) return cookies;
        return _cookies = new OidcCookies(_config, OidcKeyRing.For(OidcKeyRing.FolderFor(storage)), storage);
    }

    public override void Dispose() => _provider.Dispose();

    [LoggerMessage(EventId = EventIds.OidcSignedIn, Level = LogLevel.Information, Message = "Signed in {Email} on route {Route} through {Issuer}")]
    internal static partial void LogSignedIn(ILogger logger, string? email, string route, string issuer);

    [LoggerMessage(EventId = EventIds.OidcRefused, Level = LogLevel.Information, Message = "Refused {Email} on route {Route}: not in the oidc rule's allow lists")]
    internal static partial void LogRefused(ILogger logger, string? email, string route);

    [LoggerMessage(EventId = EventIds.OidcCallbackFailed, Level = LogLevel.Warning, Message = "Login on route {Route} failed at the provider {Issuer}: {Reason}")]
    internal static partial void LogCallbackFailed(ILogger logger, string route, string issuer, string reason);
}
