using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Portway.Tests.Rules.Oidc;

/// <summary>
/// A real OpenID provider on 127.0.0.1 (OpenIddict's server in degraded mode: no database, the
/// client checked by the handlers below): discovery, JWKS, an authorization endpoint with an HTML
/// login form, a token endpoint that requires PKCE, and end-session. Users: alice@example.com
/// (verified, groups staff and dev), bob@other.test (verified), carol@example.com (not verified);
/// every password is "pw". With the offline_access scope it issues refresh tokens, and redeems
/// them against the users as they are then (<see cref="SetGroups"/>, <see cref="RefuseRefresh"/>).
/// </summary>
internal sealed class TestOpenIdProvider : IAsyncDisposable
{
    public const string ClientId = "portway-test";
    public const string ClientSecret = "test-secret-f00d";
    public const string Password = "pw";

    private readonly ConcurrentDictionary<string, (string Email, bool Verified, string[] Groups)> _users = new()
    {
        ["alice"] = ("alice@example.com", true, ["staff", "dev"]),
        ["bob"] = ("bob@other.test", true, []),
        ["carol"] = ("carol@example.com", false, []),
    };

    private readonly WebApplication _app;
    private int _loginForms;
    private int _endSessions;

    private TestOpenIdProvider(WebApplication app) => _app = app;

    public Uri Issuer { get; private set; } = null!;

    /// <summary>The redirect URIs registered for the client (the edge's port is known only once it runs).</summary>
    public ConcurrentBag<string> RedirectUris { get; } = [];

    /// <summary>Every token request's form, as the provider received it.</summary>
    public ConcurrentQueue<Dictionary<string, string>> TokenRequests { get; } = new();

    /// <summary>How many times the login form was shown (a GET of the authorization endpoint).</summary>
    public int LoginForms => Volatile.Read(ref _loginForms);

    public int EndSessions => Volatile.Read(ref _endSessions);

    /// <summary>Every end-session request's query, as the provider received it.</summary>
    public ConcurrentQueue<Dictionary<string, string>> EndSessionRequests { get; } = new();

    /// <summary>When set, every refresh token is answered invalid_grant (revoked at the provider).</summary>
    public bool RefuseRefresh { get; set; }

    /// <summary>Changes a user's groups at the provider; the next token (a refresh) carries them.</summary>
    public void SetGroups(string user, params string[] groups) => _users[user] = _users[user] with { Groups = groups };

    public static async Task<TestOpenIdProvider> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        TestOpenIdProvider? self = null;
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.EnableDegradedMode();
            o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token").SetEndSessionEndpointUris("connect/logout");
            o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange().AllowRefreshTokenFlow();
            o.RegisterScopes(Scopes.OpenId, Scopes.Email, Scopes.Profile, Scopes.OfflineAccess);
            o.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
            o.UseAspNetCore().DisableTransportSecurityRequirement()
                .EnableAuthorizationEndpointPassthrough().EnableTokenEndpointPassthrough().EnableEndSessionEndpointPassthrough();
            o.AddEventHandler<ValidateAuthorizationRequestContext>(b => b.UseInlineHandler(ctx =>
            {
                if (ctx.ClientId != ClientId) ctx.Reject(Errors.InvalidClient, "unknown client_id");
                else if (ctx.RedirectUri is null || !self!.RedirectUris.Contains(ctx.RedirectUri)) ctx.Reject(Errors.InvalidRequest, $"redirect_uri {ctx.RedirectUri} is not registered");
                return default;
            }));
            o.AddEventHandler<ValidateTokenRequestContext>(b => b.UseInlineHandler(ctx =>
            {
                if (ctx.ClientId != ClientId || ctx.ClientSecret != ClientSecret) ctx.Reject(Errors.InvalidClient, "wrong client_id or client_secret");
                else if (ctx.Request.IsRefreshTokenGrantType() && self!.RefuseRefresh) ctx.Reject(Errors.InvalidGrant, "the refresh token has been revoked");
                return default;
            }));
            o.AddEventHandler<ValidateEndSessionRequestContext>(b => b.UseInlineHandler(_ => default));
        });
        var app = builder.Build();
        self = new TestOpenIdProvider(app);
        app.UseAuthentication();
        app.MapMethods("/connect/authorize", ["GET", "POST"], self.AuthorizeAsync);
        app.MapPost("/connect/token", self.TokenAsync);
        app.MapGet("/connect/logout", ctx =>
        {
            self.EndSessionRequests.Enqueue(ctx.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()));
            Interlocked.Increment(ref self._endSessions);
            return ctx.Response.WriteAsync("signed out at the provider");
        });
        await app.StartAsync();
        self.Issuer = new Uri(app.Urls.First());
        // Warmed up: OpenIddict's first requests compile its whole handler pipeline, which on a
        // busy machine outlasts the edge's request timeout.
        using var warm = new HttpClient { BaseAddress = self.Issuer };
        await warm.GetStringAsync(".well-known/openid-configuration");
        await warm.GetStringAsync(".well-known/jwks");
        return self;
    }

    private async Task AuthorizeAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("not an OpenID request");
        if (HttpMethods.IsPost(context.Request.Method))
        {
            var form = await context.Request.ReadFormAsync();
            if (_users.ContainsKey(form["username"].ToString()) && form["password"] == Password)
            {
                await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Principal(form["username"].ToString(), request.GetScopes()));
                return;
            }
        }
        else
        {
            Interlocked.Increment(ref _loginForms);
        }
        // A real form: the request's parameters ride along as hidden fields, as a provider's own page keeps them.
        var html = new StringBuilder("<!doctype html><html><head><title>Test provider login</title></head><body><form method=\"post\" action=\"/connect/authorize\">");
        foreach (var parameter in request.GetParameters())
            html.Append($"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(parameter.Key)}\" value=\"{WebUtility.HtmlEncode((string?)parameter.Value)}\">");
        html.Append("<label>User <input id=\"username\" name=\"username\"></label><label>Password <input id=\"password\" name=\"password\" type=\"password\"></label>")
            .Append("<button id=\"submit\" type=\"submit\">Sign in</button></form></body></html>");
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html.ToString());
    }

    private async Task TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        TokenRequests.Enqueue(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
        // The code or refresh token was checked by OpenIddict (client, redirect_uri, PKCE verifier,
        // signature, lifetime); the user is read again, so a changed group shows in the new id_token.
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var user = result.Principal!.GetClaim(Claims.Subject)!;
        await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Principal(user, result.Principal!.GetScopes()));
    }

    private ClaimsPrincipal Principal(string name, ImmutableArray<string> scopes)
    {
        var user = _users[name];
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, name).SetClaim(Claims.Email, user.Email);
        identity.AddClaim(new Claim(Claims.EmailVerified, user.Verified ? "true" : "false", ClaimValueTypes.Boolean));
        identity.SetClaims("groups", [.. user.Groups]);
        identity.SetScopes(scopes);
        identity.SetDestinations(_ => [Destinations.IdentityToken]);
        return new ClaimsPrincipal(identity);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
