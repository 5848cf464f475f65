using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Rules.Webhooks;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// A compiled <c>webhook_verify</c>: buffers the body (bounded by max_body, so the server still gets
/// it byte for byte), has the provider's scheme check the signature, then the timestamp against
/// the tolerance and the delivery against the replay window. Enforcing, a failure is a 403 naming
/// the reason; annotating, the request goes on with <c>Portway-Webhook-Verified: false; reason=…</c>.
/// </summary>
internal sealed partial class WebhookVerifier : Rule
{
    public const string VerifiedHeader = "Portway-Webhook-Verified";

    /// <summary>Verified deliveries remembered per rule; beyond it the oldest are forgotten first. At
    /// a few hundred bytes each this caps the window near 10 MB, far above any provider's rate.</summary>
    private const int ReplayCapacity = 50_000;

    private static readonly object RecordedKey = new();

    private readonly WebhookVerifyRule.Config _config;
    private readonly IWebhookScheme _scheme;
    private readonly byte[] _key;
    private readonly ReplayWindow _replays;
    private readonly RuleServices _services;

    public WebhookVerifier(WebhookVerifyRule.Config config, IWebhookScheme scheme, RuleServices services) : base(config)
    {
        _services = services;
        _config = config;
        _scheme = scheme;
        _key = config.Key.Span.ToArray();
        _replays = new ReplayWindow(config.Tolerance, ReplayCapacity);
    }

    public override bool IsAsync => true;

    public override Task? OnRequest(RuleRequest request) =>
        throw new InvalidOperationException("webhook_verify reads the body; it runs through OnRequestAsync");

    public override ValueTask<bool> OnRequestAsync(RuleRequest request) => VerifyAsync(request.HttpContext, request.RouteId, request.Logger);

    private async ValueTask<bool> VerifyAsync(HttpContext context, string routeId, ILogger logger)
    {
        var request = context.Request;
        // Only the edge says whether a delivery was verified; a client's own claim is dropped.
        request.Headers.Remove(VerifiedHeader);
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request, _config.MaxBody, context.RequestAborted);
        }
        catch (Exception e) when (e is BadHttpRequestException or EndOfStreamException or IOException or OperationCanceledException)
        {
            // The client went away, or sent less than it declared: nothing to verify. An answer
            // only if someone is still there to read it; never a stack trace per request.
            if (!context.RequestAborted.IsCancellationRequested)
            {
                await ErrorPage.WriteAsync(context, e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest, "Bad Request",
                    "The request body ended before it was complete.", "Send the whole body its Content-Length announces.");
            }
            return true;
        }
        if (body is null)
        {
            await ErrorPage.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Content Too Large",
                $"This webhook's body is larger than the {_config.MaxBody} bytes the edge reads to verify it.",
                "If the provider really sends deliveries this large, raise max_body in the route's webhook_verify rule.");
            return true;
        }
        request.Body = new MemoryStream(body, writable: false);

        var failure = Check(context, new WebhookRequest(request, body));
        if (failure is null)
        {
            request.Headers[VerifiedHeader] = "true";
            return false;
        }
        if (!_config.Enforce)
        {
            LogUnverified(logger, _config.Provider, routeId, failure);
            request.Headers[VerifiedHeader] = $"false; reason=\"{failure}\"";
            return false;
        }
        LogRefused(logger, _config.Provider, routeId, failure);
        await ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
            $"This request is not a verified {_config.Provider} webhook: {failure}.",
            "The provider's own delivery log shows this answer; check the secret in the route's webhook_verify rule and the edge's clock.");
        return true;
    }

    /// <summary>Null when the delivery is genuine, fresh and new; else the reason, which names headers and seconds, never a secret.</summary>
    private string? Check(HttpContext context, WebhookRequest delivery)
    {
        var check = _scheme.Verify(delivery, _key);
        if (!check.IsValid) return check.Failure;
        var now = _services.Time.GetUtcNow();
        if (check.UnixSeconds is { } signedAt)
        {
            var age = now.ToUnixTimeSeconds() - signedAt;
            var tolerance = (long)_config.Tolerance.TotalSeconds;
            if (age > tolerance) return $"stale by {age.ToString(CultureInfo.InvariantCulture)} s (tolerance {tolerance.ToString(CultureInfo.InvariantCulture)} s)";
            if (-age > tolerance) return $"timestamp {(-age).ToString(CultureInfo.InvariantCulture)} s in the future (tolerance {tolerance.ToString(CultureInfo.InvariantCulture)} s)";
        }
        if (check.ReplayKey is { } replayKey)
        {
            if (!_replays.TryAdd(replayKey, now)) return "replayed (this delivery was already accepted)";
            context.Items[RecordedKey] = replayKey;
        }
        return null;
    }

    public override bool ChangesResponse => true;

    /// <summary>
    /// A delivery counts as seen once the server accepted it: on an error status (the server's, or
    /// a later rule's) it is forgotten, because the provider will retry it unchanged.
    /// </summary>
    public override void OnResponse(HttpContext context)
    {
        if (context.Response.StatusCode >= 400 && context.Items.TryGetValue(RecordedKey, out var key) && key is string recorded)
            _replays.Forget(recorded);
    }

    /// <summary>The whole body, or null when it is longer than <paramref name="max"/> (refused before reading when Content-Length says so).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, long max, CancellationToken aborted)
    {
        if (request.ContentLength is { } declared)
        {
            if (declared > max) return null;
            var exact = new byte[declared];
            await request.Body.ReadExactlyAsync(exact, aborted);
            return exact;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, aborted)) > 0)
        {
            if (buffer.Length + read > max) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    [LoggerMessage(EventId = EventIds.WebhookRefused, Level = LogLevel.Information, Message = "Refused a {Provider} webhook on route {Route}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string provider, string route, string reason);

    [LoggerMessage(EventId = EventIds.WebhookUnverified, Level = LogLevel.Information, Message = "Passed an unverified {Provider} webhook on route {Route} (enforce: false): {Reason}")]
    private static partial void LogUnverified(ILogger logger, string provider, string route, string reason);
}
