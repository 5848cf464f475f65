using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Rules;

/// <summary>
/// The gate's two cookies, both encrypted and signed with Data Protection: the session (Path=/,
/// for the rule's lifetime) and one short-lived cookie per login in flight (Path=the callback, so
/// it is only ever sent there). The protectors' purposes name the issuer and client, so a cookie
/// made by one oidc rule means nothing to another. The session holds the id_token and a refresh
/// token, often more than a browser keeps in one cookie (4 KB), so it is split into NAME, NAMEC1,
/// NAMEC2… by ASP.NET Core's chunking cookie manager, as its cookie authentication does.
/// </summary>
internal sealed class OidcCookies
{
    /// <summary>How long a login may take at the provider; oauth2-proxy's CSRF cookie lives 15 min, 10 is ample for a password and a second factor.</summary>
    public static readonly TimeSpan LoginTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How many characters of the state name its cookie: a browser may run logins in several tabs at once.</summary>
    public const int StatePrefixLength = 12;

    private static readonly ChunkingCookieManager s_chunks = new();

    private readonly OidcRule.Config _config;
    private readonly IDataProtector _session;
    private readonly IDataProtector _state;

    public OidcCookies(OidcRule.Config config, IDataProtectionProvider ring, string acmeStorage)
    {
        _config = config;
        AcmeStorage = acmeStorage;
        var root = ring.CreateProtector("Portway.Oidc", config.Issuer.AbsoluteUri, config.ClientId);
        _session = root.CreateProtector("session");
        _state = root.CreateProtector("login");
    }

    /// <summary>The tls.acme.storage the key ring's folder was derived from.</summary>
    public string AcmeStorage { get; }

    public OidcSession? ReadSession(HttpContext context, TimeProvider time)
    {
        var session = Read(s_chunks.GetRequestCookie(context, _config.CookieName), _session, OidcJsonContext.Default.OidcSession);
        return session is not null && session.ExpiresUnixSeconds > time.GetUtcNow().ToUnixTimeSeconds() ? session : null;
    }

    public void WriteSession(HttpContext context, OidcSession session) =>
        s_chunks.AppendResponseCookie(context, _config.CookieName, Write(session, _session, OidcJsonContext.Default.OidcSession),
            Options(context, "/", _config.SessionLifetime));

    public void DeleteSession(HttpContext context) => s_chunks.DeleteCookie(context, _config.CookieName, Options(context, "/", null));

    public void WriteLogin(HttpContext context, OidcLoginState login) =>
        context.Response.Cookies.Append(StateCookie(login.State), Write(login, _state, OidcJsonContext.Default.OidcLoginState),
            Options(context, _config.CallbackPath, LoginTimeout));

    /// <summary>The login the callback's state names, if this browser started it and it has not expired.</summary>
    public OidcLoginState? ReadLogin(HttpContext context, string state, TimeProvider time)
    {
        var login = Read(context.Request.Cookies[StateCookie(state)], _state, OidcJsonContext.Default.OidcLoginState);
        return login is not null && login.ExpiresUnixSeconds > time.GetUtcNow().ToUnixTimeSeconds() ? login : null;
    }

    public void DeleteLogin(HttpContext context, string state) =>
        context.Response.Cookies.Delete(StateCookie(state), Options(context, _config.CallbackPath, null));

    /// <summary>
    /// The session cookie is the edge's, not the server's (like the basic_auth credentials): it is
    /// taken out of the Cookie header, the server's own cookies are left as they are.
    /// </summary>
    public void StripSession(HttpRequest request)
    {
        var header = request.Headers.Cookie;
        if (header.Count == 0) return;
        var name = _config.CookieName;
        var kept = new List<string>();
        var removed = false;
        foreach (var line in header)
        {
            foreach (var part in (line ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=');
                if (IsSessionCookie((eq < 0 ? part : part[..eq]).Trim(), name)) removed = true;
                else kept.Add(part);
            }
        }
        if (!removed) return;
        if (kept.Count == 0) request.Headers.Remove("Cookie");
        else request.Headers.Cookie = string.Join("; ", kept);
    }

    /// <summary>NAME or one of its chunks, NAMEC1, NAMEC2…</summary>
    private static bool IsSessionCookie(string cookie, string name) =>
        cookie.StartsWith(name, StringComparison.Ordinal) && (cookie.Length == name.Length ||
            (cookie.Length > name.Length + 1 && cookie[name.Length] == 'C' && cookie.AsSpan(name.Length + 1).IndexOfAnyExceptInRange('0', '9') < 0));

    private string StateCookie(string state) => $"{_config.CookieName}_login_{state[..StatePrefixLength]}";

    private static CookieOptions Options(HttpContext context, string path, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        // Lax: sent on the top-level GET back from the provider (the callback), not on cross-site subrequests.
        SameSite = SameSiteMode.Lax,
        Path = path,
        MaxAge = maxAge,
        IsEssential = true,
    };

    private static string Write<T>(T value, IDataProtector protector, JsonTypeInfo<T> type) =>
        Base64Url.EncodeToString(protector.Protect(JsonSerializer.SerializeToUtf8Bytes(value, type)));

    /// <summary>Null for a missing, tampered, foreign (another rule's or key ring's) or unreadable cookie: each is "no session".</summary>
    private static T? Read<T>(string? cookie, IDataProtector protector, JsonTypeInfo<T> type) where T : class
    {
        if (string.IsNullOrEmpty(cookie) || !Base64Url.IsValid(cookie)) return null;
        try
        {
            return JsonSerializer.Deserialize(protector.Unprotect(Base64Url.DecodeFromChars(cookie)), type);
        }
        catch (Exception e) when (e is CryptographicException or JsonException)
        {
            return null;
        }
    }
}
