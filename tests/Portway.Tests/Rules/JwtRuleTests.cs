using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>jwt through the real edge: the test's own identity provider serves the key set on loopback.</summary>
public sealed class JwtRuleTests
{
    private static string Route(Uri origin, string jwt) => $$"""
        routes:
          - id: api
            cluster: app
            rules:
              - jwt: {{jwt}}
        clusters:
          - id: app
            destinations: [{{origin}}]
        """;

    private static string Basic(JwtKeyServer idp, string extra = "") =>
        $"{{ issuer: '{JwtKeyServer.Issuer}', audience: {JwtKeyServer.Audience}, jwks_url: '{idp.JwksUrl}'{extra} }}";

    private static async Task<HttpResponseMessage> SendAsync(TestEdge edge, string? token, string path = "/", Action<HttpRequestMessage>? change = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        change?.Invoke(request);
        return await edge.Client.SendAsync(request);
    }

    [Fact]
    [CoversKey("rules[].jwt.issuer", "rules[].jwt.audience", "rules[].jwt.jwks_url", "rules[].jwt.claims_to_headers")]
    public async Task Jwks_ValidToken_PassesWithClaimsAsHeaders_ForgedOnesAndTheTokenRemoved()
    {
        var key = JwtKeyServer.Rsa("k1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync(Route(origin.Url, Basic(idp, ", claims_to_headers: { sub: X-User, email: X-Email, roles: X-Roles }")));

        var token = JwtKeyServer.Token(key, claims: new() { ["sub"] = "alice", ["roles"] = new[] { "admin", "ops" } });
        var seen = await Probe.SeenAsync(await SendAsync(edge, token, change: r =>
        {
            r.Headers.Add("X-User", "root");
            r.Headers.Add("X-Email", "root@example.com");
        }));
        Assert.Equal("alice", seen.Header("X-User"));
        Assert.Null(seen.Header("X-Email")); // forged, and the token has no email claim
        Assert.Equal("admin,ops", seen.Header("X-Roles"));
        Assert.Null(seen.Header("Authorization")); // forward_token defaults to false

        // The same token again passes from the accepted-token cache: the same headers, forged ones still replaced or removed.
        var again = await Probe.SeenAsync(await SendAsync(edge, token, change: r =>
        {
            r.Headers.Add("X-User", "root");
            r.Headers.Add("X-Email", "root@example.com");
        }));
        Assert.Equal("alice", again.Header("X-User"));
        Assert.Null(again.Header("X-Email"));
        Assert.Equal("admin,ops", again.Header("X-Roles"));
        Assert.Null(again.Header("Authorization"));

        // Without a token: 401 and a bare Bearer challenge (RFC 6750 §3.1), nothing forwarded.
        using var anonymous = await SendAsync(edge, null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    public async Task ClaimsToHeaders_TwoClaimsOneHeader_TheClaimTheTokenHasIsSent_AlsoFromTheCache()
    {
        var key = JwtKeyServer.Rsa("k1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync(Route(origin.Url, Basic(idp, ", claims_to_headers: { sub: X-Who, email: X-Who }")));

        var token = JwtKeyServer.Token(key, claims: new() { ["sub"] = "alice" }); // no email claim
        for (var i = 0; i < 2; i++) // checked, then remembered
        {
            var seen = await Probe.SeenAsync(await SendAsync(edge, token, change: r => r.Headers.Add("X-Who", "root")));
            Assert.Equal("alice", seen.Header("X-Who"));
        }
    }

    [Fact]
    [CoversKey("rules[].jwt.clock_skew")]
    public async Task Jwks_BadTokens_401SaysWhatWasWrong_NeverForwarded()
    {
        var key = JwtKeyServer.Rsa("k1");
        var other = JwtKeyServer.Rsa("k1"); // the same kid, another key: a forged signature
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Route(origin.Url, Basic(idp, ", clock_skew: 30s")));

        async Task Refused(string token, string because)
        {
            using var response = await SendAsync(edge, token);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var challenge = response.Headers.WwwAuthenticate.ToString();
            Assert.StartsWith("Bearer error=\"invalid_token\", error_description=\"", challenge);
            Assert.True(challenge.Contains(because, StringComparison.Ordinal), challenge);
            var page = await response.Content.ReadAsStringAsync();
            Assert.Contains(because, page);
            Assert.DoesNotContain(token, page);
        }

        // Within the skew still passes; beyond it, refused with the time it expired.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, JwtKeyServer.Token(key, expiresIn: TimeSpan.FromSeconds(-10)))).StatusCode);
        await Refused(JwtKeyServer.Token(key, expiresIn: TimeSpan.FromMinutes(-2)), "the token expired at ");
        await Refused(JwtKeyServer.Token(key, notBeforeIn: TimeSpan.FromMinutes(5)), "the token is not valid before ");
        await Refused(JwtKeyServer.Token(key, audience: "other.test"), "the token's audience was 'other.test', expected api.test");
        await Refused(JwtKeyServer.Token(key, issuer: "https://evil.test/"), "the token's issuer was 'https://evil.test/', expected https://login.test/");
        await Refused(JwtKeyServer.Token(other), "the token's signature does not verify");
        await Refused(JwtKeyServer.Unsigned(), "the token's algorithm 'none' is not allowed here");
        await Refused("not-a-jwt", "the token is not a well-formed JWT");
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task Jwks_UnknownKid_RefetchesAndAcceptsTheRotatedKey()
    {
        var oldKey = JwtKeyServer.Rsa("2026-11");
        var newKey = JwtKeyServer.Rsa("2026-12");
        await using var idp = await JwtKeyServer.StartAsync(oldKey);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Route(origin.Url, Basic(idp)));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, JwtKeyServer.Token(oldKey))).StatusCode);
        Assert.Equal(1, idp.Fetches);

        var before = JwtKeyServer.Token(oldKey);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, before)).StatusCode);
        idp.Publish(newKey);
        var token = JwtKeyServer.Token(newKey);
        await Wait.UntilAsync(async () => (await SendAsync(edge, token)).StatusCode == HttpStatusCode.OK, because: "the rotated key set to be fetched");
        Assert.Equal(2, idp.Fetches);
        // The cached set now has the new key: further tokens cost no fetch.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, JwtKeyServer.Token(newKey))).StatusCode);
        Assert.Equal(2, idp.Fetches);
        // A token accepted (and remembered) under the old set is refused once the set without its key is in.
        using var withdrawn = await SendAsync(edge, before);
        Assert.Equal(HttpStatusCode.Unauthorized, withdrawn.StatusCode);
    }

    [Fact]
    public async Task RateLimitAfterJwt_KeyedByTheTokensClaim_OneLimiterPerUser()
    {
        var key = JwtKeyServer.Rsa("k1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync($$"""
            routes:
              - id: api
                cluster: app
                rules:
                  - jwt: {{Basic(idp)}}
                  - rate_limit: { requests: 1, per: 1h, key: 'claim:sub' }
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
            """);
        string As(string user) => JwtKeyServer.Token(key, claims: new() { ["sub"] = user });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, As("alice"))).StatusCode);
        // Another token of the same user shares her limiter; another user has his own.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(edge, As("alice"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, As("bob"))).StatusCode);
    }

    [Fact]
    public async Task AcceptedToken_RememberedOnlyUntilItExpires()
    {
        var key = JwtKeyServer.Rsa("k1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Route(origin.Url, Basic(idp, ", clock_skew: 30s")));
        // Expired 28 s ago: within the 30 s skew for two more seconds. Accepted twice (the second
        // time from the rule's memory of accepted tokens), then refused once past the skew.
        var token = JwtKeyServer.Token(key, expiresIn: TimeSpan.FromSeconds(-28));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, token)).StatusCode);
        await Wait.UntilAsync(async () => (await SendAsync(edge, token)).StatusCode == HttpStatusCode.Unauthorized,
            because: "a remembered token to be refused once it is past its expiry and the skew");
        var requests = origin.Requests;
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(edge, token)).StatusCode);
        Assert.Equal(requests, origin.Requests);
    }

    [Fact]
    public async Task Reload_UnchangedJwtRule_KeepsItsCachedKeySet()
    {
        var key = JwtKeyServer.Rsa("k1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await TestOrigin.StartAsync("app");
        string Config(string extra) => $$"""
            routes:
              - id: api
                cluster: app
                rules: [{ jwt: {{Basic(idp)}} }]
            {{extra}}
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
            """;
        await using var edge = await TestEdge.StartAsync(Config(""));
        var token = JwtKeyServer.Token(key);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, token)).StatusCode);

        // A change elsewhere keeps the rule instance, and with it the fetched keys: no second fetch.
        await edge.RewriteAsync(Config("  - { id: other, match: { path_prefix: /other }, cluster: app }"));
        await Wait.UntilAsync(async () => (await edge.Client.GetAsync("/other")).StatusCode == HttpStatusCode.OK, because: "the reload to apply");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, token)).StatusCode);
        Assert.Equal(1, idp.Fetches);
    }

    [Fact]
    public async Task Jwks_Unreachable_503AndOneLogLinePerChange()
    {
        var logs = new LogCapture();
        await using var origin = await TestOrigin.StartAsync("app");
        var port = Probe.FreePort();
        var url = $"http://127.0.0.1:{port}/jwks";
        await using var edge = await TestEdge.StartAsync(
            Route(origin.Url, $"{{ issuer: '{JwtKeyServer.Issuer}', audience: {JwtKeyServer.Audience}, jwks_url: '{url}' }}"),
            services => services.AddSingleton<ILoggerProvider>(logs));
        var key = JwtKeyServer.Rsa("k1");
        var token = JwtKeyServer.Token(key);
        for (var i = 0; i < 3; i++)
        {
            using var response = await SendAsync(edge, token);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("keys to check sign-in tokens with could not be fetched", await response.Content.ReadAsStringAsync());
        }
        Assert.Single(logs.Lines, l => l.Message.Contains(url, StringComparison.Ordinal) && l.Level == LogLevel.Warning);
        Assert.Equal(0, origin.Requests);

        // The key set comes up: a later request fetches it and passes, and one line says so.
        await using var idp = await JwtKeyServer.StartAsync(port, key);
        await Wait.UntilAsync(async () => (await SendAsync(edge, token)).StatusCode == HttpStatusCode.OK, because: "the key set to be fetched once it answers");
        Assert.Single(logs.Lines, l => l.Level == LogLevel.Information && l.Message.Contains($"{url} of route api's jwt rule is fetched again", StringComparison.Ordinal));
    }

    [Fact]
    [CoversKey("rules[].jwt.from", "rules[].jwt.forward_token")]
    public async Task From_QueryCookieAndHeader_TokenRemovedUnlessForwarded()
    {
        var key = JwtKeyServer.Rsa("k1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync($$"""
            routes:
              - id: query
                match: { path_prefix: /query }
                cluster: app
                rules: [{ jwt: {{Basic(idp, ", from: 'query:access_token'")}} }]
              - id: cookie
                match: { path_prefix: /cookie }
                cluster: app
                rules: [{ jwt: {{Basic(idp, ", from: 'cookie:session'")}} }]
              - id: header
                match: { path_prefix: /header }
                cluster: app
                rules: [{ jwt: {{Basic(idp, ", from: 'header:X-Token', forward_token: true")}} }]
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
            """);
        var token = JwtKeyServer.Token(key);

        var query = await Probe.SeenAsync(await SendAsync(edge, null, $"/query?a=1&access_token={token}"));
        Assert.Equal("?a=1", query.Query);
        var cookie = await Probe.SeenAsync(await SendAsync(edge, null, "/cookie", r => r.Headers.Add("Cookie", $"theme=dark; session={token}")));
        Assert.Equal("theme=dark", cookie.Header("Cookie"));
        var header = await Probe.SeenAsync(await SendAsync(edge, null, "/header", r => r.Headers.Add("X-Token", token)));
        Assert.Equal(token, header.Header("X-Token"));

        // The token in Authorization does not count where the rule reads a cookie.
        using var elsewhere = await SendAsync(edge, token, "/cookie");
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
        Assert.Contains("the cookie session", await elsewhere.Content.ReadAsStringAsync());
    }

    [Fact]
    [CoversKey("rules[].jwt.oidc_discovery", "rules[].jwt.require")]
    public async Task OidcDiscovery_Es256_RequiredScopeOr403()
    {
        var key = JwtKeyServer.Ec("ec1");
        await using var idp = await JwtKeyServer.StartAsync(key);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Route(origin.Url,
            $"{{ issuer: '{JwtKeyServer.Issuer}', audience: {JwtKeyServer.Audience}, oidc_discovery: '{idp.DiscoveryUrl}', require: {{ scope: [read, admin] }} }}"));

        var reader = JwtKeyServer.Token(key, claims: new() { ["sub"] = "bob", ["scope"] = "profile read" });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, reader)).StatusCode);
        using var refused = await SendAsync(edge, JwtKeyServer.Token(key, claims: new() { ["sub"] = "eve", ["scope"] = "profile" }));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Bearer error=\"insufficient_scope\", error_description=\"the token's scope claim is not read or admin\"", refused.Headers.WwwAuthenticate.ToString());
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    [CoversKey("rules[].jwt.public_key_file", "rules[].jwt.algorithms")]
    public async Task PublicKeyFile_OnlyTheListedAlgorithm()
    {
        using var rsa = RSA.Create(2048);
        var file = Path.Combine(Directory.CreateTempSubdirectory("portway-jwt-").FullName, "issuer.pem");
        await File.WriteAllTextAsync(file, rsa.ExportSubjectPublicKeyInfoPem());
        var key = new RsaSecurityKey(rsa);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Route(origin.Url,
            $"{{ issuer: '{JwtKeyServer.Issuer}', audience: {JwtKeyServer.Audience}, public_key_file: '{file}', algorithms: [RS256] }}"));

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, JwtKeyServer.Token(key))).StatusCode);
        using var refused = await SendAsync(edge, JwtKeyServer.Token(key, SecurityAlgorithms.RsaSha512));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var challenge = refused.Headers.WwwAuthenticate.ToString();
        Assert.True(challenge.Contains("the token's algorithm 'RS512' is not allowed here", StringComparison.Ordinal), challenge);
    }

    [Fact]
    [CoversKey("rules[].jwt.secret_env")]
    public async Task SecretEnv_Hs256_RightSecretPassesOtherRefused()
    {
        var name = "PORTWAY_TEST_JWT_" + Guid.NewGuid().ToString("N");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        Environment.SetEnvironmentVariable(name, secret);
        await using var origin = await TestOrigin.StartAsync("app");
        await using var edge = await TestEdge.StartAsync(Route(origin.Url,
            $"{{ issuer: '{JwtKeyServer.Issuer}', audience: {JwtKeyServer.Audience}, secret_env: {name} }}"));

        var right = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(secret));
        var wrong = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(64));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(edge, JwtKeyServer.Token(right))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(edge, JwtKeyServer.Token(wrong))).StatusCode);
    }

    [Theory]
    [InlineData("{ issuer: x, audience: y, jwks_url: 'https://k/jwks', algorithms: [none] }", "t.yaml:8:81: routes[0].rules[0].jwt.algorithms: 'none' is never allowed")]
    [InlineData("{ issuer: x, audience: y, jwks_url: 'https://k/jwks', algorithms: [HS256] }", "t.yaml:8:81: routes[0].rules[0].jwt.algorithms: 'HS256' is an HMAC algorithm and needs secret_env")]
    [InlineData("{ issuer: x, audience: y, jwks_url: 'http://k.example.com/jwks' }", "t.yaml:8:50: routes[0].rules[0].jwt.jwks_url: 'http://k.example.com/jwks' must be an https:// URL (http:// only to localhost or a loopback address)")]
    [InlineData("{ audience: y, jwks_url: 'https://k/jwks' }", "t.yaml:8:14: routes[0].rules[0].jwt.issuer: is required")]
    [InlineData("{ issuer: x, audience: y }", "t.yaml:8:14: routes[0].rules[0].jwt: has no keys to check signatures with")]
    [InlineData("{ issuer: x, audience: y, jwks_url: 'https://k/jwks', from: 'body:token' }", "t.yaml:8:74: routes[0].rules[0].jwt.from: 'body:token' is not a place for a token")]
    [InlineData("{ issuer: x, audience: y, secret_env: PORTWAY_TEST_NO_SUCH_VARIABLE }", "t.yaml:8:52: routes[0].rules[0].jwt.secret_env: the environment variable PORTWAY_TEST_NO_SUCH_VARIABLE is not set")]
    public void Load_BadJwtRule_LocatedError(string jwt, string expected) => RuleConfigErrors.Assert("jwt: " + jwt, expected);
}
