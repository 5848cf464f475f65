using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Rules.Auth;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// The compiled <c>jwt</c> rule. It calls <see cref="JsonWebTokenHandler.ValidateTokenAsync(string, TokenValidationParameters)"/>
/// itself rather than registering a JwtBearer authentication scheme: schemes are fixed when the
/// host starts, while rules are built per config and swapped on reload, one per route or cluster,
/// each with its own keys. The handler and the key-set cache are the ones JwtBearer uses underneath.
/// </summary>
internal sealed partial class JwtCheck : Rule
{
    private readonly JwtRule.Config _config;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _keySet;
    private readonly HttpClient? _http;
    private readonly string? _keySetUrl;
    private readonly AcceptedTokens _accepted = new();

    /// <summary>The token's header when it is not forwarded (dropped on the way out, <see cref="UnforwardedHeader"/>); null otherwise.</summary>
    private readonly UnforwardedHeader? _unforwarded;

    /// <summary>The key set last fetched and the parameters built with its keys, replaced together (one reference).</summary>
    private KeyedParameters? _keyed;

    /// <summary>0 while the key set has not failed since it last loaded, 1 while it is failing: logs go out on a change only.</summary>
    private int _keySetFailing;

    public JwtCheck(JwtRule.Config config) : base(config)
    {
        _config = config;
        if (!config.ForwardToken) _unforwarded = config.From.Header();
        _parameters = new TokenValidationParameters
        {
            ValidIssuers = config.Issuers,
            ValidAudiences = config.Audiences,
            ValidAlgorithms = config.Algorithms,
            ClockSkew = config.ClockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            AuthenticationType = "jwt",
        };
        if (config.PublicKeyPem is not null) _parameters.IssuerSigningKey = JwtKeys.FromPem(config.PublicKeyPem);
        else if (!config.Secret.Span.IsEmpty) _parameters.IssuerSigningKey = JwtKeys.FromSecret(config.Secret.Span);
        else
        {
            _keySetUrl = config.JwksUrl ?? config.OidcDiscovery!;
            // One client per rule, dropped with it; a key set never answers with a redirect worth following.
            _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
            {
                Timeout = TimeSpan.FromSeconds(10),
            };
            var documents = new HttpDocumentRetriever(_http) { RequireHttps = !JwtRule.IsLoopback(new Uri(_keySetUrl)) };
            IConfigurationRetriever<OpenIdConnectConfiguration> reader = config.JwksUrl is not null ? JwksRetriever.Instance : new OpenIdConnectConfigurationRetriever();
            _keySet = new ConfigurationManager<OpenIdConnectConfiguration>(_keySetUrl, reader, documents)
            {
                // Refetched hourly so a key the issuer withdrew stops working within the hour
                // (IdentityModel's default is 12 h; Envoy's jwks cache_duration is 10 min).
                AutomaticRefreshInterval = TimeSpan.FromHours(1),
                // A token naming an unknown kid refetches at once, then at most once a minute: the
                // kid is the client's to choose, so each one must not cost a fetch (default 5 min).
                RefreshInterval = TimeSpan.FromMinutes(1),
            };
        }
    }

    public override bool IsAsync => true;

    public override Task? OnRequest(RuleRequest request) =>
        throw new InvalidOperationException("the jwt rule is asynchronous; the rules middleware calls OnRequestAsync");

    /// <summary>
    /// Synchronous for the usual request, a token already accepted with the keys in force: no
    /// state machine and no copy of the token. Anything else (a new token, keys being fetched,
    /// a refusal to write) goes on in <see cref="CheckAsync"/>.
    /// </summary>
    public override ValueTask<bool> OnRequestAsync(RuleRequest request)
    {
        // The claim headers a client sent itself never reach the server: a refused request goes
        // nowhere, and a passing one has each set from the token or removed (Pass).
        var token = _config.From.Find(request.HttpContext.Request, out var header);
        if (token.IsEmpty) return new(NoTokenAsync(request.HttpContext));
        if (_keySet is null)
        {
            return Known(request, header, token, _parameters) ? new(false) : CheckAsync(request, token.ToString(), null);
        }
        var keyed = KeyedAsync(request.RouteId, request.Logger);
        if (keyed.IsCompletedSuccessfully && keyed.Result is { } now && Known(request, header, token, now)) return new(false);
        return CheckAsync(request, token.ToString(), keyed);
    }

    /// <summary>Passes a token accepted before with these very keys (and not yet expired); false when it has to be checked.</summary>
    private bool Known(RuleRequest request, string header, ReadOnlySpan<char> token, object keys)
    {
        if (_accepted.Find(header, token, keys) is not { } known) return false;
        Pass(request, known.User, known.Values);
        return true;
    }

    private async Task<bool> NoTokenAsync(HttpContext context)
    {
        // RFC 6750 §3.1: no error code when the request carried no credentials at all.
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await ErrorPage.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
            "This site needs a sign-in token (a JWT), and the request had none.", $"Send it in {_config.From.Describe()}.");
        return true;
    }

    /// <summary>The token checked in full; <paramref name="keyedTask"/> is the key set being had (null for a fixed key).</summary>
    private async ValueTask<bool> CheckAsync(RuleRequest request, string token, Task<KeyedParameters?>? keyedTask)
    {
        var (context, routeId, logger) = (request.HttpContext, request.RouteId, request.Logger);
        var parameters = _parameters;
        object keysUsed = _parameters;
        if (keyedTask is not null)
        {
            if (await keyedTask is not { } keyed)
            {
                await ErrorPage.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                    "The keys to check sign-in tokens with could not be fetched, so no token can be checked right now.",
                    "Try again shortly; if it lasts, the site's operator should check the jwt rule's key set URL.");
                return true;
            }
            parameters = keyed.Parameters;
            keysUsed = keyed;
            // Fetched meanwhile, or refetched since: the token may be known to these keys.
            if (Known(request, token, token, keysUsed)) return false;
        }

        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && _keySet is not null)
        {
            // The issuer may have rotated its keys since the set was fetched: refetch (rate-limited
            // by RefreshInterval) and check once more with the new set.
            _keySet.RequestRefresh();
            if (await KeyedAsync(routeId, logger) is { } fresh && !ReferenceEquals(fresh.Parameters, parameters))
            {
                result = await _handler.ValidateTokenAsync(token, fresh.Parameters);
                keysUsed = fresh;
            }
        }
        if (!result.IsValid)
        {
            var problem = TokenProblem.Describe(result.Exception, Read(token), _config.Issuers, _config.Audiences, _config.Algorithms);
            LogRejected(logger, routeId, problem);
            context.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{TokenProblem.HeaderSafe(problem)}\"";
            await ErrorPage.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                $"The sign-in token was refused: {problem}.", "Sign in again to get a new token.");
            return true;
        }

        var identity = result.ClaimsIdentity;
        if (Unmet(identity) is { } missing)
        {
            var problem = $"the token's {missing.Claim} claim is not {string.Join(" or ", missing.Values)}";
            LogRejected(logger, routeId, problem);
            // RFC 6750 §3.1: a valid token without the rights needed is 403 insufficient_scope.
            context.Response.Headers.WWWAuthenticate = $"Bearer error=\"insufficient_scope\", error_description=\"{TokenProblem.HeaderSafe(problem)}\"";
            await ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"The sign-in token is valid but does not allow this: {problem}.", "Ask the site's operator for access.");
            return true;
        }

        var values = new string?[_config.ClaimsToHeaders.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var found = identity.FindAll(_config.ClaimsToHeaders[i].Claim).Select(c => c.Value).ToArray();
            if (found.Length > 0) values[i] = string.Join(",", found);
        }
        var accepted = AcceptedTokens.Accepted.Create(new ClaimsPrincipal(identity), values, result.SecurityToken.ValidTo + _config.ClockSkew, keysUsed);
        _accepted.Add(token, accepted);
        Pass(request, accepted.User, values);
        return false;
    }

    /// <summary>
    /// The request goes on as the token's user: each claim header set from the token, or removed
    /// when the token lacks the claim (whatever the client sent under that name), and the token
    /// removed unless forwarded. <paramref name="values"/> go with <c>claims_to_headers</c> by position.
    /// </summary>
    private void Pass(RuleRequest request, ClaimsPrincipal user, string?[] values)
    {
        request.User = user;
        var headers = request.HttpContext.Request.Headers;
        var claims = _config.ClaimsToHeaders;
        // Removals first: two claims may name one header, and the one the token has must stay.
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is null) headers.Remove(claims[i].Header);
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value) headers[claims[i].Header] = value;
        }
        if (_config.ForwardToken) return;
        if (_unforwarded is not null) request.DoNotForward(_unforwarded);
        else _config.From.Remove(request.HttpContext.Request);
    }

    /// <summary>The token's header and claims without any check, to say what was wrong with it; null when it does not parse.</summary>
    private JsonWebToken? Read(string token)
    {
        try
        {
            return _handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return null;
        }
    }

    /// <summary>The first requirement no claim value meets; scope-like claims (space-separated, RFC 8693 §4.2) match by word.</summary>
    private JwtRule.Requirement? Unmet(ClaimsIdentity identity)
    {
        foreach (var requirement in _config.Require)
        {
            var met = false;
            foreach (var claim in identity.FindAll(requirement.Claim))
            {
                foreach (var wanted in requirement.Values)
                {
                    if (claim.Value == wanted || claim.Value.Split(' ').Contains(wanted)) met = true;
                }
            }
            if (!met) return requirement;
        }
        return null;
    }

    /// <summary>Parameters with the key set's keys; null when the set cannot be had (never fetched, or the fetch failed and nothing was cached).</summary>
    private async Task<KeyedParameters?> KeyedAsync(string routeId, ILogger logger)
    {
        OpenIdConnectConfiguration keys;
        try
        {
            // Not the request's token: one client going away must not fail the fetch others wait on.
            keys = await _keySet!.GetConfigurationAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            if (Interlocked.Exchange(ref _keySetFailing, 1) == 0) LogKeySetUnavailable(logger, _keySetUrl!, routeId, Innermost(e));
            return null;
        }
        if (Interlocked.Exchange(ref _keySetFailing, 0) == 1) LogKeySetAvailable(logger, _keySetUrl!, routeId);
        var keyed = Volatile.Read(ref _keyed);
        if (keyed is not null && ReferenceEquals(keyed.Keys, keys)) return keyed;
        var parameters = _parameters.Clone();
        parameters.IssuerSigningKeys = keys.SigningKeys;
        keyed = new KeyedParameters(keys, parameters);
        Volatile.Write(ref _keyed, keyed);
        return keyed;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    public override void Dispose() => _http?.Dispose();

    private sealed record KeyedParameters(OpenIdConnectConfiguration Keys, TokenValidationParameters Parameters);

    [LoggerMessage(EventId = EventIds.JwtRejected, Level = LogLevel.Debug, Message = "Refused a token on route {Route}: {Problem}")]
    private static partial void LogRejected(ILogger logger, string route, string problem);

    [LoggerMessage(EventId = EventIds.JwksUnavailable, Level = LogLevel.Warning, Message = "The key set {Url} of route {Route}'s jwt rule cannot be fetched ({Reason}); its requests get 503 until it can")]
    private static partial void LogKeySetUnavailable(ILogger logger, string url, string route, string reason);

    [LoggerMessage(EventId = EventIds.JwksAvailable, Level = LogLevel.Information, Message = "The key set {Url} of route {Route}'s jwt rule is fetched again")]
    private static partial void LogKeySetAvailable(ILogger logger, string url, string route);
}
