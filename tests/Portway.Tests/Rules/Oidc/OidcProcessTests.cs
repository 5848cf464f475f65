using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules.Oidc;

/// <summary>
/// The oidc gate in the real `portway serve` process, so .ci/native-suite runs it against the
/// Native AOT binary too: discovery, the key set, id_token validation and Data Protection must
/// all work without reflection-based JSON or trimmed-away code.
/// </summary>
public sealed class OidcProcessTests
{
    [Fact]
    public async Task Serve_LoginAtProviderForm_OriginSeesEmailHeader_LogoutEndsSession()
    {
        await using var provider = await TestOpenIdProvider.StartAsync();
        await using var origin = await TestOrigin.StartAsync("app", ctx =>
            ctx.Response.WriteAsync($"email={ctx.Request.Headers["X-Forwarded-Email"]}\ncookie={ctx.Request.Headers.Cookie}"));
        var state = Directory.CreateTempSubdirectory("portway-oidc-");
        try
        {
            var config = Path.Combine(state.FullName, "portway.yaml");
            await File.WriteAllTextAsync(config, TestEdge.WithTestDefaults(OidcSetup.Yaml(origin, state, OidcSetup.Rule(provider))));
            await using var portway = PortwayProcess.Start("serve", "--config", config);
            await Wait.UntilAsync(() => Regex.IsMatch(portway.Stdout, @"listening on http://\S+\s+proxy") || portway.HasExited,
                TimeSpan.FromSeconds(30), "the edge starts");
            Assert.False(portway.HasExited, portway.Stdout + portway.Stderr);
            var edge = new Uri(Regex.Match(portway.Stdout, @"listening on (http://\S+)\s+proxy").Groups[1].Value);
            provider.RedirectUris.Add(new Uri(edge, "/.portway/oidc/callback").ToString());

            var jar = new CookieContainer();
            using var browser = OidcSetup.Browser(jar);
            using var start = await browser.GetAsync(new Uri(edge, "/hello"));
            Assert.True(start.StatusCode == HttpStatusCode.Found, $"{(int)start.StatusCode}: {await start.Content.ReadAsStringAsync()} {portway.Stdout}");
            var back = await OidcSetup.SubmitLoginFormAsync(browser, start.Headers.Location!, "alice");
            using var callback = await browser.GetAsync(back);
            Assert.True(callback.StatusCode == HttpStatusCode.Found, $"{(int)callback.StatusCode}: {await callback.Content.ReadAsStringAsync()} {portway.Stdout}");
            Assert.Equal("/hello", callback.Headers.Location!.OriginalString);

            using var app = await browser.GetAsync(new Uri(edge, "/hello"));
            var body = await app.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, app.StatusCode);
            Assert.Contains("email=alice@example.com\n", body);
            Assert.DoesNotContain("_portway_oidc", body);
            Assert.Contains("Signed in alice@example.com on route web", portway.Stdout);

            using var logout = await browser.GetAsync(new Uri(edge, "/.portway/oidc/logout"));
            Assert.StartsWith(new Uri(provider.Issuer, "/connect/logout").ToString(), logout.Headers.Location!.ToString());
            Assert.Contains("id_token_hint=", logout.Headers.Location.Query);
            using var after = await browser.GetAsync(new Uri(edge, "/hello"));
            Assert.Equal(HttpStatusCode.Found, after.StatusCode);
            Assert.Equal(1, origin.Requests);
        }
        finally
        {
            try
            {
                state.Delete(recursive: true);
            }
            catch (IOException)
            {
                // The process may still be writing its key file as it dies; the temp folder is harmless.
            }
        }
    }
}
