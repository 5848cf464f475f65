using System.Net;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portway.Configuration;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules.Oidc;

/// <summary>The oidc rule through the real edge against a real OpenID provider (OpenIddict on loopback), over HttpClient.</summary>
public sealed class OidcRuleTests
{
    [Fact]
    [CoversKey("rules[].oidc.issuer", "rules[].oidc.client_id", "rules[].oidc.client_secret", "rules[].oidc.allowed_domains", "rules[].oidc.claims_to_headers")]
    public async Task Login_AllowedDomain_ReachesAppWithEmailHeaderAndWithoutSessionCookie()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        using var browser = OidcSetup.Browser();
        using var back = await s.LoginAsync(browser, "alice", "/docs?page=2");
        Assert.Equal(HttpStatusCode.Found, back.StatusCode);
        Assert.Equal("/docs?page=2", back.Headers.Location!.OriginalString);
        var setCookie = Assert.Single(back.Headers.GetValues("Set-Cookie"), c => c.StartsWith("_portway_oidc=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(s.Edge.Url, "/docs?page=2"));
        // A client's own header of that name never reaches the server.
        request.Headers.Add("X-Forwarded-Email", "mallory@example.com");
        request.Headers.Add("Cookie", "theme=dark");
        using var app = await browser.SendAsync(request);
        var body = await app.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, app.StatusCode);
        Assert.Contains("email=alice@example.com\n", body);
        Assert.Contains("cookie=theme=dark\n", body);
        Assert.DoesNotContain("_portway_oidc", body);
    }

    [Fact]
    public async Task NoSession_ApiRequestGets401_NavigationGetsCodeFlowWithPkceS256()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        using var api = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
        using var json = new HttpRequestMessage(HttpMethod.Get, new Uri(s.Edge.Url, "/api/items"));
        json.Headers.Accept.ParseAdd("application/json");
        using var refused = await api.SendAsync(json);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var xhr = new HttpRequestMessage(HttpMethod.Get, new Uri(s.Edge.Url, "/page"));
        xhr.Headers.Accept.ParseAdd("text/html");
        xhr.Headers.Add("Sec-Fetch-Mode", "cors");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.SendAsync(xhr)).StatusCode);
        Assert.Equal(0, s.Origin.Requests);

        using var browser = OidcSetup.Browser();
        var authorize = await s.StartLoginAsync(browser);
        Assert.StartsWith(new Uri(s.Provider.Issuer, "/connect/authorize").ToString(), authorize.ToString());
        var q = QueryHelpers.ParseQuery(authorize.Query);
        Assert.Equal("code", q["response_type"]);
        Assert.Equal(TestOpenIdProvider.ClientId, q["client_id"]);
        Assert.Equal(new Uri(s.Edge.Url, "/.portway/oidc/callback").ToString(), q["redirect_uri"]);
        Assert.Equal("openid email profile", q["scope"]);
        Assert.Equal("S256", q["code_challenge_method"]);
        Assert.Equal(43, q["code_challenge"].ToString().Length);
        Assert.True(q["state"].ToString().Length >= 32 && q["nonce"].ToString().Length >= 32);
    }

    [Fact]
    public async Task Callback_StateNotStartedByThisBrowser_Gets400()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        using var browser = OidcSetup.Browser();
        var back = await OidcSetup.SubmitLoginFormAsync(browser, await s.StartLoginAsync(browser), "alice");
        var q = QueryHelpers.ParseQuery(back.Query);
        var state = q["state"].ToString();
        // Same cookie (the first characters name it), other state: a forged or swapped callback.
        var forged = new Uri(s.Edge.Url, $"/.portway/oidc/callback?code={Uri.EscapeDataString(q["code"]!)}&state={state[..12]}{new string('A', state.Length - 12)}");
        using var mismatch = await browser.GetAsync(forged);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("cannot be matched", await mismatch.Content.ReadAsStringAsync());
        using var otherBrowser = OidcSetup.Browser();
        Assert.Equal(HttpStatusCode.BadRequest, (await otherBrowser.GetAsync(back)).StatusCode);
        Assert.Empty(s.Provider.TokenRequests);
        // The real callback still works, once.
        using var ok = await browser.GetAsync(back);
        Assert.Equal(HttpStatusCode.Found, ok.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(back)).StatusCode);
    }

    [Fact]
    public async Task AllowedDomains_OtherDomainOrUnverifiedEmail_Gets403NamingTheEmail()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        using var bob = OidcSetup.Browser();
        using var other = await s.LoginAsync(bob, "bob");
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        var page = await other.Content.ReadAsStringAsync();
        Assert.Contains("bob@other.test", page);
        Assert.Contains("verified emails at example.com", page);
        Assert.False(other.Headers.Contains("Set-Cookie") && other.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("_portway_oidc=", StringComparison.Ordinal)));

        using var carol = OidcSetup.Browser();
        using var unverified = await s.LoginAsync(carol, "carol");
        Assert.Equal(HttpStatusCode.Forbidden, unverified.StatusCode);
        Assert.Contains("carol@example.com (not verified by the provider)", await unverified.Content.ReadAsStringAsync());
        Assert.Equal(0, s.Origin.Requests);
    }

    [Fact]
    public async Task SessionCookie_Tampered_IsNoSession()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        var jar = new CookieContainer();
        using var browser = OidcSetup.Browser(jar);
        Assert.Equal(HttpStatusCode.Found, (await s.LoginAsync(browser, "alice")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(s.Edge.Url)).StatusCode);
        var session = jar.GetCookies(s.Edge.Url)["_portway_oidc"]!;
        var value = session.Value.ToCharArray();
        value[value.Length / 2] = value[value.Length / 2] == 'A' ? 'B' : 'A';
        using var api = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, UseCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, s.Edge.Url);
        request.Headers.Add("Cookie", $"_portway_oidc={new string(value)}");
        using var refused = await api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(1, s.Origin.Requests);
    }

    [Fact]
    public async Task ReturnUrl_ProtocolRelativePath_GoesBackToSlashNotToAnotherHost()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        foreach (var crafted in new[] { "//evil.example/steal", "/%5Cevil.example/steal" })
        {
            using var browser = OidcSetup.Browser();
            var back = await OidcSetup.SubmitLoginFormAsync(browser, await s.StartLoginAsync(browser, crafted), "alice");
            using var done = await browser.GetAsync(back);
            Assert.Equal(HttpStatusCode.Found, done.StatusCode);
            var location = done.Headers.Location!.OriginalString;
            Assert.StartsWith("/", location);
            Assert.False(location.StartsWith("//", StringComparison.Ordinal) || location.StartsWith("/\\", StringComparison.Ordinal), location);
            Assert.DoesNotContain("evil.example", new Uri(s.Edge.Url, location).Host);
        }
    }

    [Fact]
    public async Task Pkce_TokenRequestCarriesTheVerifier_ProviderRefusesAuthorizationWithoutChallenge()
    {
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        using var browser = OidcSetup.Browser();
        var authorize = await s.StartLoginAsync(browser);
        var challenge = QueryHelpers.ParseQuery(authorize.Query)["code_challenge"].ToString();
        Assert.Equal(HttpStatusCode.Found, (await browser.GetAsync(await OidcSetup.SubmitLoginFormAsync(browser, authorize, "alice"))).StatusCode);
        var token = Assert.Single(s.Provider.TokenRequests);
        var verifier = token["code_verifier"];
        Assert.Equal(challenge, Base64UrlTextEncoder.Encode(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier))));
        Assert.False(token.ContainsKey("client_secret"), "client_secret_basic: the secret goes in the Authorization header, not the form");

        // The provider really checks: the same request without the challenge is refused.
        var q = QueryHelpers.ParseQuery(authorize.Query).Where(p => !p.Key.StartsWith("code_challenge", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
        using var plain = await browser.GetAsync(QueryHelpers.AddQueryString(authorize.GetLeftPart(UriPartial.Path), q));
        var answer = plain.Headers.Location?.Query ?? await plain.Content.ReadAsStringAsync();
        Assert.Contains("code_challenge", Uri.UnescapeDataString(answer));
    }

    [Fact]
    [CoversKey("rules[].oidc.allowed_groups", "rules[].oidc.groups_claim", "rules[].oidc.allowed_emails", "rules[].oidc.cookie_name",
        "rules[].oidc.session_lifetime", "rules[].oidc.callback_path", "rules[].oidc.scopes", "rules[].oidc.client_secret_file")]
    public async Task Groups_Emails_CookieName_Lifetime_CallbackPath_Scopes_SecretFile_AsConfigured()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var secretFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(secretFile, TestOpenIdProvider.ClientSecret + "\n");
        await using var s = await OidcSetup.StartAsync(p => $"""
                      issuer: {p.Issuer}
                      client_id: {TestOpenIdProvider.ClientId}
                      client_secret_file: {secretFile}
                      scopes: [openid, email]
                      allowed_groups: [staff]
                      groups_claim: groups
                      allowed_emails: [Bob@Other.test]
                      cookie_name: app_login
                      session_lifetime: 1h
                      callback_path: /auth/back
                      claims_to_headers: {"{"} email: X-Forwarded-Email, groups: X-Groups {"}"}
            """, "/auth/back", services => services.AddSingleton<TimeProvider>(time));
        var jar = new CookieContainer();
        using var alice = OidcSetup.Browser(jar);
        var authorize = await s.StartLoginAsync(alice);
        Assert.Equal("openid email", QueryHelpers.ParseQuery(authorize.Query)["scope"]);
        Assert.Equal(new Uri(s.Edge.Url, "/auth/back").ToString(), QueryHelpers.ParseQuery(authorize.Query)["redirect_uri"]);
        using (var back = await alice.GetAsync(await OidcSetup.SubmitLoginFormAsync(alice, authorize, "alice")))
            Assert.Equal(HttpStatusCode.Found, back.StatusCode);
        Assert.NotNull(jar.GetCookies(s.Edge.Url)["app_login"]);
        // A claim with several values (an array) reaches the server joined with commas.
        Assert.Contains("groups=staff,dev\n", await alice.GetStringAsync(s.Edge.Url));

        using var bob = OidcSetup.Browser();
        Assert.Equal(HttpStatusCode.Found, (await s.LoginAsync(bob, "bob")).StatusCode);
        Assert.Contains("email=bob@other.test", await bob.GetStringAsync(s.Edge.Url));

        time.Advance(TimeSpan.FromMinutes(61));
        using var expired = await alice.GetAsync(s.Edge.Url);
        Assert.Equal(HttpStatusCode.Found, expired.StatusCode);
        Assert.StartsWith(s.Provider.Issuer.ToString(), expired.Headers.Location!.ToString());
        File.Delete(secretFile);
    }

    [Fact]
    [CoversKey("rules[].oidc.logout_path")]
    public async Task Logout_ClearsSessionAndGoesToEndSession_KeyRingSurvivesRestart()
    {
        var state = Directory.CreateTempSubdirectory("portway-oidc-");
        var jar = new CookieContainer();
        using var browser = OidcSetup.Browser(jar);
        await using (var first = await OidcSetup.StartAsync(p => OidcSetup.Rule(p, "          allowed_domains: [example.com]\n          logout_path: /bye"), state: state))
        {
            Assert.Equal(HttpStatusCode.Found, (await first.LoginAsync(browser, "alice")).StatusCode);
            var cookie = jar.GetCookies(first.Edge.Url)["_portway_oidc"]!.Value;
            // Another edge on the same state folder (a restart) reads the same cookie.
            var yaml = OidcSetup.Yaml(first.Origin, state, OidcSetup.Rule(first.Provider));
            await using var second = await TestEdge.StartAsync(yaml);
            using var api = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false });
            using var again = new HttpRequestMessage(HttpMethod.Get, second.Url);
            again.Headers.Add("Cookie", $"_portway_oidc={cookie}");
            Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(again)).StatusCode);

            using var logout = await browser.GetAsync(new Uri(first.Edge.Url, "/bye"));
            Assert.Equal(HttpStatusCode.Found, logout.StatusCode);
            Assert.StartsWith(new Uri(first.Provider.Issuer, "/connect/logout").ToString(), logout.Headers.Location!.ToString());
            Assert.Null(jar.GetCookies(first.Edge.Url)["_portway_oidc"]);
            using var next = await browser.GetAsync(first.Edge.Url);
            Assert.Equal(HttpStatusCode.Found, next.StatusCode);
            Assert.Equal(1, first.Origin.Requests);
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(state.FullName, "oidc-keys"), "key-*.xml"));
        }
    }

    [Fact]
    public async Task ProviderDownThenUp_503ThenLogin_OneLogLinePerChange()
    {
        var logs = new LogCapture();
        await using var origin = await TestOrigin.StartAsync("app");
        var state = Directory.CreateTempSubdirectory("portway-oidc-");
        // A port nothing listens on: a provider that is down.
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using var edge = await TestEdge.StartAsync(OidcSetup.Yaml(origin, state, $"""
                      issuer: http://127.0.0.1:{port}
                      client_id: x
                      client_secret: y
                      allowed_domains: [example.com]
            """), services => services.AddSingleton<ILoggerProvider>(logs));
        using var browser = OidcSetup.Browser();
        for (var i = 0; i < 3; i++)
        {
            using var down = await browser.GetAsync(edge.Url);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Contains("login provider cannot be reached", await down.Content.ReadAsStringAsync());
        }
        Assert.Single(logs.AtLeast(LogLevel.Warning), l => l.Contains($"OpenID provider http://127.0.0.1:{port}/ cannot be reached", StringComparison.Ordinal));

        // The provider comes up: the next visit goes to its login, and that is logged once.
        await using var provider = await TestOpenIdProvider.StartAsync(port);
        for (var i = 0; i < 2; i++)
        {
            using var up = await browser.GetAsync(edge.Url);
            Assert.Equal(HttpStatusCode.Found, up.StatusCode);
            Assert.StartsWith(provider.Issuer.ToString(), up.Headers.Location!.ToString());
        }
        Assert.Single(logs.AtLeast(LogLevel.Information), l => l.Contains($"OpenID provider http://127.0.0.1:{port}/ answers again", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.AtLeast(LogLevel.Debug), l => l.Contains("Exception", StringComparison.Ordinal) && l.Contains("   at ", StringComparison.Ordinal));
        state.Delete(recursive: true);
    }

    [Theory]
    [InlineData("issuer: http://idp.example.com\n  client_id: a\n  client_secret: b\n  allowed_domains: [x.com]", "t.yaml:9:19: routes[0].rules[0].oidc.issuer: 'http://idp.example.com' is plain http")]
    [InlineData("issuer: https://idp.example.com\n  client_id: a\n  allowed_domains: [x.com]", "t.yaml:9:11: routes[0].rules[0].oidc.client_secret: is required (or client_secret_file)")]
    [InlineData("issuer: https://idp.example.com\n  client_id: a\n  client_secret: b", "t.yaml:9:11: routes[0].rules[0].oidc: lets nobody in")]
    [InlineData("issuer: https://idp.example.com\n  client_id: a\n  client_secret: b\n  allowed_domains: [x.com]\n  callback_path: //x", "t.yaml:13:26: routes[0].rules[0].oidc.callback_path: '//x' is not a path")]
    [InlineData("issuer: https://idp.example.com\n  client_id: a\n  client_secret: b\n  allowed_domains: [x.com]\n  refresh_after: 8h", "t.yaml:13:26: routes[0].rules[0].oidc.refresh_after: is not shorter than session_lifetime (8h unless set)")]
    [InlineData("issuer: https://idp.example.com\n  client_id: a\n  client_secret: b\n  allowed_domains: [x.com]\n  post_logout_redirect_uri: bye", "t.yaml:13:37: routes[0].rules[0].oidc.post_logout_redirect_uri: 'bye' is neither a path nor an http(s) URL")]
    [InlineData("issuer: https://idp.example.com\n  client_id: a\n  client_secret: b\n  allowed_domains: [x.com]\n  scopes: [email]", "t.yaml:13:19: routes[0].rules[0].oidc.scopes: must include openid")]
    public void Config_Errors_AreLocated(string keys, string expected) => RuleConfigErrors.Assert("oidc:\n  " + keys, expected);

    [Theory]
    [InlineData("path_prefix: /app", "", "t.yaml:8:20: routes[0].match.path_prefix: '/app' does not match /.portway/oidc/callback, the callback_path of the route's oidc rule, so those requests would never reach the rule; set callback_path to a path under this one (e.g. callback_path: /app/.portway/oidc/callback) or widen the match")]
    [InlineData("path: /app/{**rest}", "\n          callback_path: /app/auth/back", "t.yaml:8:13: routes[0].match.path: '/app/{**rest}' does not match /.portway/oidc/logout, the logout_path of the route's oidc rule")]
    [InlineData("path: /app", "\n          callback_path: /app/auth/back\n          logout_path: /app/bye", "t.yaml:8:13: routes[0].match.path: '/app' does not match /app/auth/back, the callback_path of the route's oidc rule, so those requests would never reach the rule; set callback_path to a path under this one or widen the match")]
    public void OwnPaths_NotMatchedByTheRoute_AreLocatedErrors(string match, string extra, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(RouteYaml(match, extra), "t.yaml"));
        // One error per path the route misses: the first is the callback's, unless only logout_path misses.
        Assert.StartsWith(expected, error.Errors.First().ToString());
    }

    [Theory]
    [InlineData("path_prefix: /app", "\n          callback_path: /app/auth/back\n          logout_path: /app/bye")]
    [InlineData("path: /{**rest}", "")]
    [InlineData("hosts: [wiki.example.com]", "")]
    public void OwnPaths_MatchedByTheRoute_Load(string match, string extra) =>
        Assert.Single(ConfigLoader.Parse(RouteYaml(match, extra), "t.yaml").Routes);

    [Fact]
    public void OwnPaths_OfTheClustersRules_AreCheckedAgainstEachRouteToTheCluster()
    {
        const string yaml = """
            clusters:
              - id: app
                destinations: [http://127.0.0.1:1]
                rules:
                  - oidc:
                      issuer: https://idp.example.com
                      client_id: a
                      client_secret: b
                      allowed_domains: [x.com]
            routes:
              - id: all
                cluster: app
                match: { path: "/{**rest}" }
              - id: api
                cluster: app
                match: { path_prefix: /api }
            """;
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "t.yaml"));
        Assert.StartsWith("t.yaml:16:27: routes[1].match.path_prefix: '/api' does not match /.portway/oidc/callback, the callback_path of cluster 'app''s oidc rule",
            error.Errors.First().ToString());
        Assert.Equal(2, error.Errors.Count); // the callback and the logout path; the route matching every path is fine
    }

    private static string RouteYaml(string match, string extra) => $"""
        clusters:
          - id: app
            destinations: [http://127.0.0.1:1]
        routes:
          - id: web
            cluster: app
            match:
              {match}
            rules:
              - oidc:
                  issuer: https://idp.example.com
                  client_id: a
                  client_secret: b
                  allowed_domains: [x.com]{extra}
        """;
}
