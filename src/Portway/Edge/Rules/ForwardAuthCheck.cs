using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Clients;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// The compiled <c>forward_auth</c> rule: one subrequest per request to the auth service, through
/// one client per rule (its connection pool is kept while the rule is, and dropped with it).
/// </summary>
internal sealed partial class ForwardAuthCheck : Rule
{
    /// <summary>
    /// Never copied to the subrequest: hop-by-hop (RFC 9110 §7.6.1), the body's framing (the
    /// subrequest has no body), the Host (the auth service's own), and the X-Forwarded-* the edge
    /// sets itself, so a client cannot pose as another method, URI or address.
    /// </summary>
    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Host", "Content-Length", "Content-Type", "Content-Encoding", "Expect",
        "X-Forwarded-Method", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Uri", "X-Forwarded-For",
    };

    /// <summary>Not relayed from a refusal: hop-by-hop, and the framing Kestrel sets for the body it writes.</summary>
    private static readonly HashSet<string> NotRelayed = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
    };

    private readonly ForwardAuthRule.Config _config;
    private readonly Uri _url;
    private readonly HttpClient _http;

    /// <summary>0 while the auth service answers, 1 while it does not: one log line per change, not per request.</summary>
    private int _failing;

    public ForwardAuthCheck(ForwardAuthRule.Config config) : base(config)
    {
        _config = config;
        _url = new Uri(config.Url);
        // Redirects and cookies belong to the visitor's browser: relayed, never followed or kept here.
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = config.Timeout,
            // Re-resolves the service's name now and then, as a long-lived pool otherwise never would.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public override bool IsAsync => true;

    public override Task? OnRequest(RuleRequest request) =>
        throw new InvalidOperationException("the forward_auth rule is asynchronous; the rules middleware calls OnRequestAsync");

    public override ValueTask<bool> OnRequestAsync(RuleRequest request) => AskAsync(request.HttpContext, request.RouteId, request.Logger);

    private async ValueTask<bool> AskAsync(HttpContext context, string routeId, ILogger logger)
    {
        var request = context.Request;
        using var ask = Subrequest(context);
        // Removed before the answer is read: only the auth service may set these.
        foreach (var name in _config.CopyHeaders) request.Headers.Remove(name);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(_config.Timeout);
        HttpResponseMessage answer;
        try
        {
            answer = await _http.SendAsync(ask, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            var timedOut = e is OperationCanceledException;
            if (Interlocked.Exchange(ref _failing, 1) == 0)
                LogUnavailable(logger, _config.Url, routeId, timedOut ? $"no answer within {ConfigValues.FormatDuration(_config.Timeout)}" : e.Message);
            await ErrorPage.WriteAsync(context, timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status503ServiceUnavailable,
                timedOut ? "Gateway Timeout" : "Service Unavailable",
                timedOut ? $"The sign-in check (this site's auth service) did not answer within {ConfigValues.FormatDuration(_config.Timeout)}."
                    : "The sign-in check (this site's auth service) could not be reached, so the request cannot be let through.",
                "Try again shortly; if it lasts, the site's operator should check the forward_auth service.");
            return true;
        }
        using (answer)
        {
            if (Interlocked.Exchange(ref _failing, 0) == 1) LogAvailable(logger, _config.Url, routeId);
            if (answer.IsSuccessStatusCode)
            {
                foreach (var name in _config.CopyHeaders)
                {
                    if (answer.Headers.TryGetValues(name, out var values)) request.Headers[name] = values.ToArray();
                }
                return false;
            }
            await RelayAsync(context, answer);
            return true;
        }
    }

    private HttpRequestMessage Subrequest(HttpContext context)
    {
        var request = context.Request;
        var ask = new HttpRequestMessage(HttpMethod.Get, _url);
        foreach (var (name, values) in request.Headers)
        {
            if (NotCopied.Contains(name) || (!_config.RequestHeaders.IsEmpty && !Listed(name))) continue;
            ask.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        // What the auth service decides on, under the names Traefik and Caddy send.
        ask.Headers.TryAddWithoutValidation("X-Forwarded-Method", request.Method);
        ask.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        ask.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        ask.Headers.TryAddWithoutValidation("X-Forwarded-Uri", request.GetEncodedPathAndQuery());
        if (ClientAddress.Of(context) is { } client) ask.Headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        return ask;
    }

    private bool Listed(string name)
    {
        foreach (var listed in _config.RequestHeaders)
        {
            if (string.Equals(listed, name, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>The auth service's refusal as the client's answer: status, headers (Location, WWW-Authenticate, Set-Cookie…) and body.</summary>
    private static async Task RelayAsync(HttpContext context, HttpResponseMessage answer)
    {
        var response = context.Response;
        response.StatusCode = (int)answer.StatusCode;
        Relay(response, answer.Headers);
        Relay(response, answer.Content.Headers);
        await using var body = await answer.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(response.Body, context.RequestAborted);
    }

    private static void Relay(HttpResponse response, HttpHeaders headers)
    {
        foreach (var (name, values) in headers)
        {
            if (!NotRelayed.Contains(name)) response.Headers[name] = values.ToArray();
        }
    }

    public override void Dispose() => _http.Dispose();

    [LoggerMessage(EventId = EventIds.ForwardAuthUnavailable, Level = LogLevel.Warning, Message = "The auth service {Url} of route {Route}'s forward_auth rule fails ({Reason}); its requests get 503/504 until it answers")]
    private static partial void LogUnavailable(ILogger logger, string url, string route, string reason);

    [LoggerMessage(EventId = EventIds.ForwardAuthAvailable, Level = LogLevel.Information, Message = "The auth service {Url} of route {Route}'s forward_auth rule answers again")]
    private static partial void LogAvailable(ILogger logger, string url, string route);
}
