using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portway.Tests.Configuration.DocumentedKeys;
using Xunit;

namespace Portway.Tests.Rules.Oidc;

/// <summary>The session after the login: renewal with the refresh token, and the logout at the provider.</summary>
public sealed class OidcSessionTests
{
    private const string OfflineStaff = """
                  scopes: [openid, email, offline_access]
                  allowed_groups: [staff]
        """;

    private static string Session(CookieContainer jar, OidcSetup s) =>
        string.Concat(jar.GetCookies(s.Edge.Url).Where(c => c.Name.StartsWith("_portway_oidc", StringComparison.Ordinal)).Select(c => c.Name + "=" + c.Value));

    private static int Grants(OidcSetup s, string grant) => s.Provider.TokenRequests.Count(r => r["grant_type"] == grant);

    [Fact]
    public async Task RefreshToken_RenewsWhenIdTokenEnds_GroupRemovedAtProviderLosesAccessAtNextRenewal()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p, OfflineStaff), services: x => x.AddSingleton<TimeProvider>(time));
        var jar = new CookieContainer();
        using var browser = OidcSetup.Browser(jar);
        Assert.Equal(HttpStatusCode.Found, (await s.LoginAsync(browser, "alice")).StatusCode);
        // The id_token and refresh token make the session larger than one cookie: NAME=chunks-N, NAMEC1…
        var first = Session(jar, s);
        Assert.Contains("email=alice@example.com\n", await browser.GetStringAsync(s.Edge.Url));
        Assert.Equal(0, Grants(s, "refresh_token"));

        // OpenIddict's id_tokens live 20 minutes: past that the session is renewed before the request goes on.
        time.Advance(TimeSpan.FromMinutes(21));
        using (var renewed = await browser.GetAsync(s.Edge.Url))
        {
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
            var body = await renewed.Content.ReadAsStringAsync();
            Assert.Contains("email=alice@example.com\n", body);
            Assert.DoesNotContain("_portway_oidc", body);
        }
        Assert.Equal(1, Grants(s, "refresh_token"));
        Assert.NotEqual(first, Session(jar, s));
        // The renewed session carries its new end: no second redemption.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(s.Edge.Url)).StatusCode);
        Assert.Equal(1, Grants(s, "refresh_token"));

        // The session is still valid, but alice left the group at the provider: the next renewal says so.
        s.Provider.SetGroups("alice", "dev");
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(s.Edge.Url)).StatusCode);
        time.Advance(TimeSpan.FromMinutes(21));
        using var refused = await browser.GetAsync(s.Edge.Url);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("members of staff", await refused.Content.ReadAsStringAsync());
        Assert.Equal(2, Grants(s, "refresh_token"));
        Assert.Equal(4, s.Origin.Requests);
    }

    [Fact]
    [CoversKey("rules[].oidc.refresh_after")]
    public async Task RefreshAfter_RenewsOnSchedule_InvalidGrantEndsSession_Api401_NavigationLogsInAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p, OfflineStaff + "\n          refresh_after: 5m"),
            services: x => x.AddSingleton<TimeProvider>(time));
        var jar = new CookieContainer();
        using var browser = OidcSetup.Browser(jar);
        Assert.Equal(HttpStatusCode.Found, (await s.LoginAsync(browser, "alice")).StatusCode);
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(s.Edge.Url)).StatusCode);
        Assert.Equal(0, Grants(s, "refresh_token"));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(s.Edge.Url)).StatusCode);
        Assert.Equal(1, Grants(s, "refresh_token"));
        var refreshToken = s.Provider.TokenRequests.Last()["refresh_token"];

        // Revoked at the provider: the session ends at the next renewal.
        s.Provider.RefuseRefresh = true;
        time.Advance(TimeSpan.FromMinutes(6));
        using var api = new HttpRequestMessage(HttpMethod.Get, s.Edge.Url);
        api.Headers.Accept.Clear();
        api.Headers.Accept.ParseAdd("application/json");
        using var unauthorized = await browser.SendAsync(api);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Null(jar.GetCookies(s.Edge.Url)["_portway_oidc"]);
        using var again = await browser.GetAsync(s.Edge.Url);
        Assert.Equal(HttpStatusCode.Found, again.StatusCode);
        Assert.StartsWith(s.Provider.Issuer.ToString(), again.Headers.Location!.ToString());
        Assert.Equal(2, s.Origin.Requests);
        var logs = s.Logs.AtLeast(LogLevel.Debug);
        Assert.Single(logs, l => l.Contains("Session of alice@example.com on route web ended", StringComparison.Ordinal) && l.Contains("invalid_grant", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Contains(refreshToken, StringComparison.Ordinal));
    }

    [Fact]
    [CoversKey("rules[].oidc.post_logout_redirect_uri")]
    public async Task Logout_SendsTheSessionsIdTokenAsHintAndPostLogoutRedirectUri_ProviderAcceptsThem()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p, "          allowed_domains: [example.com]\n          post_logout_redirect_uri: /signed-out"));
        var jar = new CookieContainer();
        using var browser = OidcSetup.Browser(jar);
        Assert.Equal(HttpStatusCode.Found, (await s.LoginAsync(browser, "alice")).StatusCode);
        using var logout = await browser.GetAsync(new Uri(s.Edge.Url, "/.portway/oidc/logout"));
        Assert.Equal(HttpStatusCode.Found, logout.StatusCode);
        Assert.Null(jar.GetCookies(s.Edge.Url)["_portway_oidc"]);

        // OpenIddict validates id_token_hint (signature, issuer, audience) before its end-session page runs.
        using var atProvider = await browser.GetAsync(logout.Headers.Location);
        Assert.Equal("signed out at the provider", await atProvider.Content.ReadAsStringAsync());
        var query = Assert.Single(s.Provider.EndSessionRequests);
        Assert.Equal(TestOpenIdProvider.ClientId, query["client_id"]);
        Assert.Equal(new Uri(s.Edge.Url, "/signed-out").ToString(), query["post_logout_redirect_uri"]);
        var hint = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(query["id_token_hint"]);
        Assert.Equal("alice", hint.Subject);
        Assert.Contains(TestOpenIdProvider.ClientId, hint.Audiences);

        // Without a session (already signed out) there is nothing to hint; the logout still goes to the provider.
        using var again = await browser.GetAsync(new Uri(s.Edge.Url, "/.portway/oidc/logout"));
        Assert.DoesNotContain("id_token_hint", again.Headers.Location!.Query);
    }
}
