using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Portway.Diagnostics;

namespace Portway.Edge.Rules;

/// <summary>
/// One rule's view of its provider: discovery and the signing keys (cached and refreshed by
/// ConfigurationManager: every 12 h, and at once when an id_token names a key it does not have),
/// the code exchange at the token endpoint, and id_token validation. Logs one line when the
/// provider stops answering and one when it answers again, not one per request.
/// </summary>
internal sealed partial class OidcProvider : IDisposable
{
    private readonly OidcRule.Config _config;
    private readonly HttpClient _http;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _discovery;
    private readonly JsonWebTokenHandler _handler = new();
    private int _down;

    public OidcProvider(OidcRule.Config config)
    {
        _config = config;
        // Bounded: a provider that hangs must end in a 503 page, not in a browser spinning.
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        DiscoveryUrl = config.Issuer.AbsoluteUri.TrimEnd('/') + "/.well-known/openid-configuration";
        _discovery = new ConfigurationManager<OpenIdConnectConfiguration>(DiscoveryUrl, new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(_http) { RequireHttps = config.Issuer.Scheme == Uri.UriSchemeHttps });
    }

    public string DiscoveryUrl { get; }

    /// <summary>The provider's discovery document, or null (logged on the change) when it cannot be had.</summary>
    public async Task<OpenIdConnectConfiguration?> GetAsync(ILogger logger, CancellationToken cancel)
    {
        try
        {
            var configuration = await _discovery.GetConfigurationAsync(cancel);
            if (Interlocked.Exchange(ref _down, 0) == 1) LogReachable(logger, _config.Issuer.AbsoluteUri);
            return configuration;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
        {
            // IdentityModel wraps the cause; its innermost message is the one a person can act on.
            if (Interlocked.Exchange(ref _down, 1) == 0) LogUnreachable(logger, _config.Issuer.AbsoluteUri, DiscoveryUrl, Innermost(e));
            return null;
        }
    }

    /// <summary>RFC 6749 §4.1.3 with RFC 7636's code_verifier: the answer must carry an id_token.</summary>
    public async Task<(OidcTokenResponse? Answer, string? Error)> ExchangeAsync(OpenIdConnectConfiguration configuration, string code, string verifier, string redirectUri, CancellationToken cancel)
    {
        var (answer, error) = await RedeemAsync(configuration, [new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", redirectUri), new("code_verifier", verifier)], cancel);
        if (answer is not null && answer.IdToken is not { Length: > 0 }) return (null, "the token endpoint answered without an id_token");
        return (answer, error);
    }

    /// <summary>RFC 6749 §6: a refresh token for new tokens; the id_token in the answer is optional (OIDC Core §12.2).</summary>
    public Task<(OidcTokenResponse? Answer, string? Error)> RefreshAsync(OpenIdConnectConfiguration configuration, string refreshToken, CancellationToken cancel) =>
        RedeemAsync(configuration, [new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], cancel);

    /// <summary>
    /// A token request. The client authenticates the way the provider's discovery says it takes
    /// (client_secret_basic, the default of OIDC Discovery §3, unless only client_secret_post is
    /// listed). The error names what the provider said, never the tokens sent.
    /// </summary>
    private async Task<(OidcTokenResponse? Answer, string? Error)> RedeemAsync(OpenIdConnectConfiguration configuration, List<KeyValuePair<string, string>> form, CancellationToken cancel)
    {
        if (string.IsNullOrEmpty(configuration.TokenEndpoint)) return (null, "its discovery document has no token_endpoint");
        var secret = Encoding.UTF8.GetString(_config.ClientSecret.Span);
        using var request = new HttpRequestMessage(HttpMethod.Post, configuration.TokenEndpoint);
        var methods = configuration.TokenEndpointAuthMethodsSupported;
        if (methods.Count > 0 && !methods.Contains("client_secret_basic") && methods.Contains("client_secret_post"))
        {
            form.Add(new("client_id", _config.ClientId));
            form.Add(new("client_secret", secret));
        }
        else
        {
            // RFC 6749 §2.3.1: both halves form-urlencoded before the base64.
            var pair = $"{Uri.EscapeDataString(_config.ClientId)}:{Uri.EscapeDataString(secret)}";
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
        }
        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.ParseAdd("application/json");
        try
        {
            using var response = await _http.SendAsync(request, cancel);
            var body = await response.Content.ReadAsByteArrayAsync(cancel);
            OidcTokenResponse? answer;
            try
            {
                answer = JsonSerializer.Deserialize(body, OidcJsonContext.Default.OidcTokenResponse);
            }
            catch (JsonException)
            {
                answer = null;
            }
            if (answer?.Error is { } error) return (null, $"the token endpoint answered {(int)response.StatusCode} {error}{(answer.ErrorDescription is { } d ? $" ({d})" : "")}");
            if (!response.IsSuccessStatusCode || answer is null) return (null, $"the token endpoint answered {(int)response.StatusCode} without tokens");
            return (answer, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
        {
            return (null, $"the token endpoint {configuration.TokenEndpoint} cannot be reached: {Innermost(e)}");
        }
    }

    /// <summary>
    /// Signature (the discovery key set), iss, aud = client_id, exp, then the nonce this login sent
    /// (OIDC Core §3.1.3.7), against the system clock: the provider stamps iat/exp with real time.
    /// A refreshed id_token has no nonce to check (OIDC Core §12.2) but must name the same user.
    /// A key the cached set lacks means the provider rotated: refresh once and retry.
    /// </summary>
    public async Task<(JsonWebToken? Token, string? Error)> ValidateAsync(OpenIdConnectConfiguration configuration, string idToken, string? nonce, string? subject, ILogger logger, CancellationToken cancel)
    {
        var result = await _handler.ValidateTokenAsync(idToken, Parameters(configuration));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            _discovery.RequestRefresh();
            if (await GetAsync(logger, cancel) is { } refreshed) result = await _handler.ValidateTokenAsync(idToken, Parameters(refreshed));
        }
        if (!result.IsValid) return (null, result.Exception?.GetType().Name switch
        {
            nameof(SecurityTokenExpiredException) => "the id_token has expired (is the edge's clock right?)",
            nameof(SecurityTokenInvalidAudienceException) => $"the id_token is not for client_id {_config.ClientId}",
            nameof(SecurityTokenInvalidIssuerException) => $"the id_token's issuer is not {configuration.Issuer}",
            nameof(SecurityTokenSignatureKeyNotFoundException) or nameof(SecurityTokenInvalidSignatureException) => "the id_token's signature does not verify with the provider's keys",
            _ => "the id_token is not valid: " + (result.Exception?.GetType().Name ?? "unknown reason"),
        });
        var token = (JsonWebToken)result.SecurityToken;
        if (subject is not null && token.Subject != subject) return (null, "the refreshed id_token names another user (sub) than the session's");
        if (nonce is null) return (token, null);
        var sent = Encoding.UTF8.GetBytes(nonce);
        if (!token.TryGetPayloadValue<string>("nonce", out var got) || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(got), sent))
            return (null, "the id_token's nonce is not the one this login sent (a replayed token?)");
        return (token, null);
    }

    private TokenValidationParameters Parameters(OpenIdConnectConfiguration configuration) => new()
    {
        ValidIssuer = configuration.Issuer ?? _config.Issuer.AbsoluteUri,
        ValidAudience = _config.ClientId,
        IssuerSigningKeys = configuration.SigningKeys,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
    };

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(EventId = EventIds.OidcProviderUnreachable, Level = LogLevel.Warning,
        Message = "OpenID provider {Issuer} cannot be reached ({Url}): {Reason}; logins answer 503 until it can")]
    private static partial void LogUnreachable(ILogger logger, string issuer, string url, string reason);

    [LoggerMessage(EventId = EventIds.OidcProviderReachable, Level = LogLevel.Information, Message = "OpenID provider {Issuer} answers again")]
    private static partial void LogReachable(ILogger logger, string issuer);
}
