using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Portway.Tests.Infrastructure;

namespace Portway.Tests.Rules.Oidc;

/// <summary>
/// A provider, an origin that echoes what it receives (X-Forwarded-Email, the Cookie header) and
/// an edge whose route 'web' has the given oidc rule; the edge's callback is registered at the
/// provider once its port is known. The key ring lives in a temp folder (tls.acme.storage's parent).
/// </summary>
internal sealed class OidcSetup : IAsyncDisposable
{
    private OidcSetup(TestOpenIdProvider provider, TestOrigin origin, TestEdge edge, DirectoryInfo state, LogCapture logs)
    {
        Logs = logs;
        Provider = provider;
        Origin = origin;
        Edge = edge;
        State = state;
    }

    public TestOpenIdProvider Provider { get; }
    public TestOrigin Origin { get; }
    public TestEdge Edge { get; }
    public DirectoryInfo State { get; }
    public LogCapture Logs { get; }

    /// <summary>The paths the origin was asked for, in order (a browser also asks for /favicon.ico).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Paths { get; private init; } = new();

    public static async Task<OidcSetup> StartAsync(Func<TestOpenIdProvider, string> rule, string callbackPath = "/.portway/oidc/callback",
        Action<IServiceCollection>? services = null, DirectoryInfo? state = null)
    {
        var provider = await TestOpenIdProvider.StartAsync();
        var paths = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var origin = await TestOrigin.StartAsync("app", ctx =>
        {
            paths.Enqueue(ctx.Request.Path.Value!);
            return ctx.Response.WriteAsync($"email={ctx.Request.Headers["X-Forwarded-Email"]}\ngroups={ctx.Request.Headers["X-Groups"]}\ncookie={ctx.Request.Headers.Cookie}\npath={ctx.Request.Path}");
        });
        state ??= Directory.CreateTempSubdirectory("portway-oidc-");
        var logs = new LogCapture();
        var edge = await TestEdge.StartAsync(Yaml(origin, state, rule(provider)), s =>
        {
            s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs);
            services?.Invoke(s);
        });
        provider.RedirectUris.Add(new Uri(edge.Url, callbackPath).ToString());
        return new OidcSetup(provider, origin, edge, state, logs) { Paths = paths };
    }

    public static string Yaml(TestOrigin origin, DirectoryInfo state, string rule) => $"""
        tls:
          acme:
            storage: {Path.Combine(state.FullName, "acme")}
        routes:
          - id: web
            cluster: app
            rules:
              - oidc:
        {rule}
        clusters:
          - id: app
            destinations: [{origin.Url}]
        """;

    /// <summary>The rule's keys for this provider, indented for <see cref="Yaml"/>; extra lines are appended as they are.</summary>
    public static string Rule(TestOpenIdProvider provider, string extra = "          allowed_domains: [example.com]") => $"""
                  issuer: {provider.Issuer}
                  client_id: {TestOpenIdProvider.ClientId}
                  client_secret: {TestOpenIdProvider.ClientSecret}
        {extra}
        """;

    /// <summary>A browser-like client: no automatic redirects (each hop is asserted), its own cookie jar, Accept: text/html.</summary>
    public static HttpClient Browser(CookieContainer? cookies = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, CookieContainer = cookies ?? new CookieContainer() });
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    /// <summary>The redirect to the provider for <paramref name="path"/>.</summary>
    public async Task<Uri> StartLoginAsync(HttpClient browser, string path = "/")
    {
        // Concatenated, not resolved: a path like //host/x must reach the edge as a path.
        using var start = await browser.GetAsync(new Uri(Edge.Url.GetLeftPart(UriPartial.Authority) + path));
        if (start.StatusCode != HttpStatusCode.Found) throw new InvalidOperationException($"expected a redirect to the provider, got {(int)start.StatusCode}; the edge logged: {string.Join(" / ", Logs.AtLeast(Microsoft.Extensions.Logging.LogLevel.Warning))}");
        return start.Headers.Location!;
    }

    /// <summary>Submits the provider's login form as <paramref name="user"/>; returns the provider's redirect back to the edge.</summary>
    public static async Task<Uri> SubmitLoginFormAsync(HttpClient browser, Uri authorize, string user)
    {
        using var form = await browser.GetAsync(authorize);
        var page = await form.Content.ReadAsStringAsync();
        if (!page.Contains("id=\"password\"", StringComparison.Ordinal)) throw new InvalidOperationException($"expected the login form, got {(int)form.StatusCode}: {page}");
        var fields = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        fields["username"] = user;
        fields["password"] = TestOpenIdProvider.Password;
        using var posted = await browser.PostAsync(authorize.GetLeftPart(UriPartial.Path), new FormUrlEncodedContent(fields));
        if (posted.StatusCode != HttpStatusCode.Found) throw new InvalidOperationException($"expected the provider's redirect back, got {(int)posted.StatusCode}: {await posted.Content.ReadAsStringAsync()}");
        return posted.Headers.Location!;
    }

    /// <summary>The whole login over HTTP; returns the callback's answer (302 back, or the refusal page).</summary>
    public async Task<HttpResponseMessage> LoginAsync(HttpClient browser, string user, string path = "/")
    {
        var back = await SubmitLoginFormAsync(browser, await StartLoginAsync(browser, path), user);
        return await browser.GetAsync(back);
    }

    public async ValueTask DisposeAsync()
    {
        await Edge.DisposeAsync();
        await Origin.DisposeAsync();
        await Provider.DisposeAsync();
        try
        {
            State.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Data Protection may still be writing its key file; the temp folder is harmless.
        }
    }
}
