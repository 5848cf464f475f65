using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Portway.Configuration;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Tunnels;

/// <summary>
/// tunnels.browser_warning (ngrok's interstitial): the first browser navigation to a tunnel gets a
/// page saying the site is served from someone's machine through this edge, with a button to go
/// on; going on sets a cookie for that host, so later navigations pass. Only top-level browser
/// navigations see it: scripts, API clients, WebSockets and assets pass untouched, so a tunnel
/// that serves an API or a webhook works as before. A warning, not an access control: anyone can
/// send the cookie or the skip header.
/// </summary>
internal sealed class BrowserWarningStep(RequestDelegate next, EdgeState state)
{
    /// <summary>Set on the tunnel's host once the visitor chose to continue.</summary>
    public const string CookieName = "portway_warning_seen";

    /// <summary>Clients that are not people (an app's own fetches, test suites) skip the page with this header, any value.</summary>
    public const string SkipHeader = "Portway-Skip-Warning";

    /// <summary>Where the page's button goes: sets the cookie, then back to the page asked for.</summary>
    public const string ContinuePath = "/_portway/continue";

    /// <summary>Remembered for a week, as ngrok remembers its visitors' choice per site.</summary>
    private static readonly TimeSpan s_remember = TimeSpan.FromDays(7);

    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetReverseProxyFeature().Route.Config.Metadata;
        if (metadata is null || !metadata.ContainsKey(TunnelMetadata.Name) || !IsOn(state.Current.Tunnels, metadata)) return next(context);
        var request = context.Request;
        if (request.Path.Equals(ContinuePath, StringComparison.Ordinal) && HttpMethods.IsPost(request.Method)) return ContinueAsync(context);
        if (!IsNavigation(request) || request.Cookies.ContainsKey(CookieName)) return next(context);
        return PageAsync(context);
    }

    private static bool IsOn(TunnelsConfig tunnels, IReadOnlyDictionary<string, string> metadata)
    {
        // A short list, scanned on tunnel requests only; a token's own setting wins over the edge's.
        if (metadata.TryGetValue(TunnelMetadata.Token, out var name))
        {
            foreach (var token in tunnels.Tokens)
            {
                if (token.Name == name) return token.BrowserWarning ?? tunnels.BrowserWarning;
            }
        }
        return tunnels.BrowserWarning;
    }

    /// <summary>
    /// A person opening the page: GET, asking for HTML, and — where the browser says so (Fetch
    /// Metadata, sent by every current browser) — a top-level navigation. A WebSocket handshake is
    /// a GET too, but says Sec-Fetch-Mode: websocket and carries Upgrade.
    /// </summary>
    private static bool IsNavigation(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) || request.Headers.ContainsKey(SkipHeader) || request.Headers.ContainsKey(HeaderNames.Upgrade)) return false;
        if (!request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)) return false;
        var mode = request.Headers["Sec-Fetch-Mode"].ToString();
        var dest = request.Headers["Sec-Fetch-Dest"].ToString();
        return (mode.Length == 0 || mode == "navigate") && (dest.Length == 0 || dest == "document");
    }

    private static Task PageAsync(HttpContext context)
    {
        var request = context.Request;
        var host = WebUtility.HtmlEncode(request.Host.Host);
        var back = WebUtility.HtmlEncode(request.PathBase + request.Path + request.QueryString);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        // The page must not be framed (clickjacking the button) nor load anything.
        response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
        return response.WriteAsync(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>You are about to visit " + host + "</title>"
            + "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}button{font-size:1em;padding:.5em 1.5em}small{color:#777}</style></head>"
            + "<body><h1>You are about to visit " + host + "</h1>"
            + "<p>This site is served from a developer's machine through a Portway tunnel. Whoever runs that machine controls what it shows.</p>"
            + "<p>Continue only if you trust the person who sent you this link. Do not enter passwords, payment details or other secrets unless you know who runs it.</p>"
            + "<form method=\"post\" action=\"" + ContinuePath + "\"><input type=\"hidden\" name=\"to\" value=\"" + back + "\"><button type=\"submit\">Continue to " + host + "</button></form>"
            + "<p><small>Portway · developers: send the header " + SkipHeader + " to skip this page</small></p></body></html>\n");
    }

    private static async Task ContinueAsync(HttpContext context)
    {
        // Only the page's own button: a form on another site posting here would let the tunnel's
        // owner skip the warning for their visitors. Browsers say where a form came from (Fetch
        // Metadata, Origin); without either (an old browser) the page's own form is the likely one.
        var site = context.Request.Headers["Sec-Fetch-Site"].ToString();
        var origin = context.Request.Headers.Origin.ToString();
        if ((site.Length > 0 && site != "same-origin")
            || (origin.Length > 0 && !(Uri.TryCreate(origin, UriKind.Absolute, out var o) && string.Equals(o.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase))))
        {
            await PageAsync(context);
            return;
        }
        var to = "/";
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            to = form["to"].ToString();
        }
        // Back to a path on this host only: "//evil.example" or "/\evil" would leave it (an open redirect).
        if (to.Length == 0 || to[0] != '/' || (to.Length > 1 && (to[1] == '/' || to[1] == '\\'))) to = "/";
        context.Response.Cookies.Append(CookieName, "1", new CookieOptions
        {
            Path = "/",
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax,
            MaxAge = s_remember,
        });
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = to;
    }
}
