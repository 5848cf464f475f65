using Portway.Tests.Infrastructure;
using Portway.Tests.Inspector;
using Xunit;

namespace Portway.Tests.Rules.Oidc;

/// <summary>The whole login as a person does it: headless Chromium, the real edge, the provider's own login form.</summary>
public sealed class OidcBrowserTests
{
    private const string Text = "location.href + '\\n' + (document.body ? document.body.innerText : '')";

    [SkippableFact]
    public async Task Chromium_LoginAtProviderForm_ReachesAppWithoutSessionCookie_ReloadStaysLoggedIn_LogoutAsksAgain()
    {
        var chromium = Tools.Require("chromium", "chromium");
        await using var s = await OidcSetup.StartAsync(p => OidcSetup.Rule(p));
        await using var browser = await HeadlessChromium.OpenAsync(chromium, new Uri("about:blank"));
        var app = new Uri(s.Edge.Url, "/welcome?tab=1");

        await browser.NavigateAsync(app);
        await Wait.UntilAsync(async () => await browser.TryEvaluateAsync("document.getElementById('password') ? 'form' : ''") == "form",
            TimeSpan.FromSeconds(60), "the provider's login form shows");
        Assert.StartsWith(s.Provider.Issuer.ToString(), await browser.EvaluateAsync("location.href"));
        await browser.EvaluateAsync("document.getElementById('username').value = 'alice'; document.getElementById('password').value = 'pw'; document.getElementById('submit').click(); ''");
        string page = "";
        await Wait.UntilAsync(async () => (page = await browser.TryEvaluateAsync(Text)).Contains("email=alice@example.com"),
            TimeSpan.FromSeconds(60), "the app shows the signed-in user");
        Assert.StartsWith(app.ToString(), page);
        Assert.Contains("cookie=\n", page);
        Assert.DoesNotContain("_portway_oidc", page);
        Assert.Equal(1, s.Provider.LoginForms);

        // A reload is served from the session: no trip to the provider.
        await browser.EvaluateAsync("window.beforeReload = 1; ''");
        await browser.SendAsync("Page.reload", new { });
        await Wait.UntilAsync(async () => (await browser.TryEvaluateAsync($"typeof window.beforeReload === 'undefined' ? {Text} : ''")).Contains("email=alice@example.com"),
            TimeSpan.FromSeconds(60), "the reloaded page shows the user again");
        Assert.Equal(1, s.Provider.LoginForms);
        Assert.Equal(2, s.Paths.Count(p => p == "/welcome"));

        await browser.NavigateAsync(new Uri(s.Edge.Url, "/.portway/oidc/logout"));
        await Wait.UntilAsync(async () => (await browser.TryEvaluateAsync(Text)).Contains("signed out at the provider"),
            TimeSpan.FromSeconds(60), "logout ends at the provider's end-session endpoint");
        Assert.Equal(1, s.Provider.EndSessions);

        await browser.NavigateAsync(app);
        await Wait.UntilAsync(async () => await browser.TryEvaluateAsync("document.getElementById('password') ? 'form' : ''") == "form",
            TimeSpan.FromSeconds(60), "after logout the provider asks again");
        Assert.Equal(2, s.Provider.LoginForms);
        Assert.Equal(2, s.Paths.Count(p => p == "/welcome"));
    }
}
