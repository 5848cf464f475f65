using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;

namespace Portway.Edge.Rules;

/// <summary>
/// Renews a session with its refresh token (RFC 6749 §6), as oauth2-proxy's cookie_refresh does:
/// new tokens from the provider, the new id_token validated (same user), the allow lists checked
/// against its claims by the gate. A provider that says no (invalid_grant: revoked, expired,
/// user disabled) or cannot be reached ends the session.
/// </summary>
/// <remarks>
/// A page's parallel requests carry the same expired cookie; they share one redemption instead of
/// each spending the refresh token, which a provider that rotates refresh tokens would take for a
/// stolen token being replayed (OAuth 2.0 Security BCP §4.14.2) and revoke the lot.
/// </remarks>
internal sealed partial class OidcRenewal(OidcRule.Config config, OidcProvider provider)
{
    private readonly ConcurrentDictionary<string, Task<OidcSession?>> _running = new(StringComparer.Ordinal);

    /// <summary>The renewed session, or null when the session has ended (logged with the reason).</summary>
    public async Task<OidcSession?> RenewAsync(OidcSession session, TimeProvider time, string routeId, ILogger logger)
    {
        var refreshToken = session.RefreshToken!;
        var mine = new TaskCompletionSource<OidcSession?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _running.GetOrAdd(refreshToken, mine.Task);
        if (running != mine.Task) return await running;
        try
        {
            var renewed = await RedeemAsync(session, refreshToken, time, routeId, logger);
            mine.SetResult(renewed);
            return renewed;
        }
        catch (Exception e)
        {
            mine.SetException(e);
            throw;
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<string, Task<OidcSession?>>(refreshToken, mine.Task));
        }
    }

    // Not the request's cancellation: the redemption is shared, one browser tab closing must not
    // end the others' session. The provider's HttpClient timeout bounds it.
    private async Task<OidcSession?> RedeemAsync(OidcSession session, string refreshToken, TimeProvider time, string routeId, ILogger logger)
    {
        if (await provider.GetAsync(logger, CancellationToken.None) is not { } configuration)
        {
            LogEnded(logger, session.Email, routeId, config.Issuer.AbsoluteUri, "its discovery document cannot be fetched");
            return null;
        }
        var (answer, error) = await provider.RefreshAsync(configuration, refreshToken, CancellationToken.None);
        if (answer is null)
        {
            LogEnded(logger, session.Email, routeId, config.Issuer.AbsoluteUri, error ?? "no answer");
            return null;
        }
        var now = time.GetUtcNow();
        // RFC 6749 §6: a new refresh token replaces the old one; without one the old one stays valid.
        var next = answer.RefreshToken is { Length: > 0 } rotated ? rotated : refreshToken;
        if (answer.IdToken is not { Length: > 0 } idToken)
        {
            // OIDC Core §12.2: the id_token is optional here; the claims stay those of the last one.
            return session with
            {
                RefreshToken = next,
                ExpiresUnixSeconds = (now + config.SessionLifetime).ToUnixTimeSeconds(),
                RefreshAtUnixSeconds = OidcCallback.RefreshAt(config, now, DateTime.MinValue, answer.ExpiresIn),
            };
        }
        var (token, failure) = await provider.ValidateAsync(configuration, idToken, null, session.Subject, logger, CancellationToken.None);
        if (token is null)
        {
            LogEnded(logger, session.Email, routeId, config.Issuer.AbsoluteUri, failure ?? "the id_token is not valid");
            return null;
        }
        return OidcCallback.SessionOf(config, token, idToken, next, answer.ExpiresIn, now);
    }

    [LoggerMessage(EventId = EventIds.OidcSessionEnded, Level = LogLevel.Information,
        Message = "Session of {Email} on route {Route} ended: renewing it at {Issuer} failed: {Reason}")]
    private static partial void LogEnded(ILogger logger, string? email, string route, string issuer, string reason);
}
