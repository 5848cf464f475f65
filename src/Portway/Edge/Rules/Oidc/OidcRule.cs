using System.Buffers;
using System.Collections.Immutable;
using System.Net;
using System.Text;
using Portway.Configuration;
using Portway.Edge.Settings;
using YamlDotNet.RepresentationModel;

// The Oidc folder keeps the gate's parts together, in the Rules namespace: a kind derives from
// RuleKind and RuleKinds names it, so a namespace of its own would be a cycle (EdgeNamespaceTests).
namespace Portway.Edge.Rules;

/// <summary>
/// <c>oidc</c>: a login gate in front of a route (OpenID Connect authorization code flow with
/// PKCE, docs/policy.md and docs/oidc.md). Browsers without a session are sent to the provider;
/// API calls get 401. After the callback the session lives in an encrypted cookie, the allow
/// lists are checked on every request, and chosen claims reach the server as headers.
/// </summary>
/// <remarks>
/// Not ASP.NET Core's OpenIdConnect handler: that handler is an authentication scheme, registered
/// once at startup with its options bound then, while an oidc rule sits on any route, is compiled
/// per config and must change (issuer, client, allow lists) on reload without a restart. The parts
/// that are hard to get right stay the libraries' own: discovery and the key set
/// (Microsoft.IdentityModel's ConfigurationManager), id_token validation (JsonWebTokenHandler) and
/// cookie encryption (Data Protection).
/// </remarks>
internal sealed class OidcRule : RuleKind<OidcRule.Config>
{
    internal sealed record ClaimHeader(string Claim, string Header);

    internal sealed record Config : RuleConfig
    {
        public override string Kind => "oidc";
        public required Uri Issuer { get; init; }
        public required string ClientId { get; init; }
        public required SecretBytes ClientSecret { get; init; }
        public EquatableArray<string> Scopes { get; init; }
        public EquatableArray<string> AllowedEmails { get; init; }
        public EquatableArray<string> AllowedDomains { get; init; }
        public EquatableArray<string> AllowedGroups { get; init; }
        public string GroupsClaim { get; init; } = "groups";
        public string CookieName { get; init; } = "_portway_oidc";
        /// <summary>8 h: a working day, as Pomerium and oauth2-proxy's shorter set-ups use; the provider is not asked again within it.</summary>
        public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromHours(8);
        /// <summary>oauth2-proxy's cookie_refresh: null renews when the tokens end (OidcCallback.RefreshAt).</summary>
        public TimeSpan? RefreshAfter { get; init; }
        public string CallbackPath { get; init; } = "/.portway/oidc/callback";
        public string LogoutPath { get; init; } = "/.portway/oidc/logout";
        /// <summary>A path on the browser's host or an absolute URL; null: the provider's own signed-out page.</summary>
        public string? PostLogoutRedirectUri { get; init; }
        public EquatableArray<ClaimHeader> ClaimsToHeaders { get; init; }

        /// <summary>The provider's redirect back and the logout must reach the rule through its route.</summary>
        public override IEnumerable<(string Key, string Path)> OwnPaths => [("callback_path", CallbackPath), ("logout_path", LogoutPath)];
    }

    internal static readonly string[] DefaultScopes = ["openid", "email", "profile"];

    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

    public override string Name => "oidc";

    public override string[] Keys { get; } =
    [
        "issuer", "client_id", "client_secret", "client_secret_file", "scopes", "allowed_emails", "allowed_domains",
        "allowed_groups", "groups_claim", "cookie_name", "session_lifetime", "refresh_after", "callback_path", "logout_path",
        "post_logout_redirect_uri", "claims_to_headers",
    ];

    public override Config? Read(YamlSection o)
    {
        var issuer = ReadIssuer(o);
        var clientId = o.String("client_id", required: true);
        var secret = ReadSecret(o);
        var scopes = o.StringList("scopes").Select(s => s.Value).ToImmutableArray();
        if (o.Has("scopes") && !scopes.Contains("openid")) o.Error("scopes", "must include openid: without it the provider sends no id_token");
        var emails = o.StringList("allowed_emails").Select(s => s.Value.Trim().ToLowerInvariant()).ToImmutableArray();
        var domains = o.StringList("allowed_domains").Select(s => s.Value.Trim().TrimStart('@').ToLowerInvariant()).ToImmutableArray();
        var groups = o.StringList("allowed_groups").Select(s => s.Value).ToImmutableArray();
        if (emails.IsEmpty && domains.IsEmpty && groups.IsEmpty)
            o.Context.Error(o.Node, o.Path, "lets nobody in; say who may: allowed_emails, allowed_domains and/or allowed_groups (allowed_domains: ['*'] for anyone with a verified email at the provider)");
        var config = new Config
        {
            Issuer = issuer ?? new Uri("https://invalid"),
            ClientId = clientId ?? "",
            ClientSecret = secret,
            Scopes = o.Has("scopes") ? scopes : [.. DefaultScopes],
            AllowedEmails = emails,
            AllowedDomains = domains,
            AllowedGroups = groups,
            SessionLifetime = o.Duration("session_lifetime", TimeSpan.FromMinutes(1)) ?? TimeSpan.FromHours(8),
            RefreshAfter = o.Duration("refresh_after", TimeSpan.FromMinutes(1)),
            ClaimsToHeaders = ReadClaimHeaders(o),
        };
        config = config with
        {
            GroupsClaim = o.String("groups_claim") ?? config.GroupsClaim,
            CookieName = ReadCookieName(o) ?? config.CookieName,
            CallbackPath = ReadPath(o, "callback_path") ?? config.CallbackPath,
            LogoutPath = ReadPath(o, "logout_path") ?? config.LogoutPath,
            PostLogoutRedirectUri = ReadPostLogout(o),
        };
        if (config.RefreshAfter >= config.SessionLifetime)
            o.Error("refresh_after", "is not shorter than session_lifetime (8h unless set): the session would end before it is ever renewed; make refresh_after shorter or session_lifetime longer");
        if (config.CallbackPath == config.LogoutPath) o.Error("logout_path", $"is the same as callback_path ({config.CallbackPath}); give each its own path");
        return config;
    }

    public override Rule Compile(Config config, RuleServices services) => new OidcGate(config, services);

    /// <summary>
    /// https only, except on loopback (a provider on the same machine, tests): over plain http on a
    /// network anyone on the path could swap the key set and sign in as anybody.
    /// </summary>
    private static Uri? ReadIssuer(YamlSection o)
    {
        var text = o.String("issuer", required: true);
        if (text is null) return null;
        if (!Uri.TryCreate(text.TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != "https" && uri.Scheme != "http") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            o.Error("issuer", $"'{text}' is not an issuer URL; write it as the provider documents it, e.g. https://accounts.google.com (discovery is at ISSUER/.well-known/openid-configuration)");
            return null;
        }
        if (uri.Scheme == "http" && !IsLoopback(uri))
        {
            o.Error("issuer", $"'{text}' is plain http; the provider's keys must come over https (http is allowed for localhost/127.0.0.1/::1 only)");
            return null;
        }
        return uri;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Inline, or from a file (a mounted secret, systemd's LoadCredential) so it stays out of the config. Never echoed in an error.</summary>
    private static SecretBytes ReadSecret(YamlSection o)
    {
        var inline = o.String("client_secret");
        var file = o.String("client_secret_file");
        if (inline is not null && file is not null)
        {
            o.Error("client_secret_file", "give client_secret or client_secret_file, not both");
            return default;
        }
        if (file is not null)
        {
            try
            {
                inline = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                o.Error("client_secret_file", $"cannot read '{file}': {e.Message}");
                return default;
            }
            if (inline.Length == 0) o.Error("client_secret_file", $"'{file}' is empty; it should hold the client secret the provider showed");
        }
        else if (inline is null)
        {
            o.Error("client_secret", "is required (or client_secret_file): the secret the provider shows for this client");
        }
        return new SecretBytes(Encoding.UTF8.GetBytes(inline ?? ""));
    }

    private static string? ReadCookieName(YamlSection o)
    {
        var name = o.String("cookie_name");
        if (name is not null && (name.Length == 0 || name.AsSpan().IndexOfAnyExcept(TokenChars) >= 0))
        {
            o.Error("cookie_name", $"'{name}' is not a cookie name (letters, digits and !#$%&'*+-.^_`|~)");
            return null;
        }
        return name;
    }

    private static string? ReadPath(YamlSection o, string key)
    {
        var path = o.String(key);
        if (path is not null && (!path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal) || path.AsSpan().IndexOfAny("?#\\ ") >= 0))
        {
            o.Error(key, $"'{path}' is not a path; write it like /.portway/oidc/callback (starts with one '/', no query)");
            return null;
        }
        return path;
    }

    /// <summary>Registered at the provider like the redirect URI: a path (on the host the browser used) or an http(s) URL.</summary>
    private static string? ReadPostLogout(YamlSection o)
    {
        var text = o.String("post_logout_redirect_uri");
        if (text is null || text.StartsWith('/')) return text is null ? null : ReadPath(o, "post_logout_redirect_uri");
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.Fragment.Length == 0) return text;
        o.Error("post_logout_redirect_uri", $"'{text}' is neither a path nor an http(s) URL; write /signed-out or https://example.com/signed-out, as registered at the provider");
        return null;
    }

    /// <summary>A mapping claim → header name; any claim name is a key here. Default: email → X-Forwarded-Email, as oauth2-proxy sends it.</summary>
    private static ImmutableArray<ClaimHeader> ReadClaimHeaders(YamlSection o)
    {
        var node = o.Raw("claims_to_headers");
        if (node is null) return [new ClaimHeader("email", "X-Forwarded-Email")];
        if (node is not YamlMappingNode map)
        {
            o.Error("claims_to_headers", "must be a mapping of claim to header name, e.g. { email: X-Forwarded-Email, sub: X-Forwarded-User }");
            return [];
        }
        var result = ImmutableArray.CreateBuilder<ClaimHeader>();
        foreach (var (k, v) in map.Children)
        {
            var claim = (k as YamlScalarNode)?.Value ?? "";
            var header = (v as YamlScalarNode)?.Value ?? "";
            if (header.Length == 0 || header.AsSpan().IndexOfAnyExcept(TokenChars) >= 0)
                o.Context.Error(v, $"{o.Join("claims_to_headers")}.{claim}", $"'{header}' is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
            else result.Add(new ClaimHeader(claim, header));
        }
        return result.ToImmutable();
    }
}
