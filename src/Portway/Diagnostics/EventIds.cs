namespace Portway.Diagnostics;

/// <summary>
/// Every <c>[LoggerMessage]</c> event id in Portway, in one list. Ids are part of the operator's
/// interface (alerts and log queries select on them, docs/tls.md and docs/tunnels.md list them),
/// so an id is never reused or renumbered once shipped; a new message takes the next free id in
/// its feature's range. <c>EventIdTests</c> fails on a duplicate value and on a message that does
/// not take its id from here.
/// </summary>
internal static class EventIds
{
    // 10–99: configuration reload (Edge/ConfigReloader).
    public const int ConfigReloaded = 10;
    public const int ConfigReloadRejected = 11;
    public const int ConfigNeedsRestart = 12;

    // 100–199: access log (Edge/AccessLog).
    public const int AccessLogCannotOpen = 100;
    public const int AccessLogDropped = 101;

    // 300–309: request guards (Edge/Limits).
    public const int RequestSmugglingRejected = 300;

    // 310–319: per-route access rules (Edge/Access). 310 was 400 until 2026-12-01, which the TLS
    // file-certificate message also used; TLS kept 400 because docs/tls.md lists it.
    public const int AccessDenied = 310;
    public const int GeoDenied = 311;
    public const int WebhookRefused = 312;
    public const int WebhookUnverified = 313;

    // 320–339: destination health (Edge/Health).
    public const int HealthConsecutiveFailuresEjected = 322;
    public const int HealthDestinationDown = 323;
    public const int HealthDestinationUp = 324;
    public const int HealthOutageSummary = 325;
    public const int HealthFailingButLast = 326;
    public const int CircuitBreakerOpened = 327;
    public const int CircuitBreakerHalfOpen = 328;
    public const int CircuitBreakerClosed = 329;

    // 340–349: retries (Edge/Retries).
    public const int RetryAttempt = 340;
    public const int RetryBudgetExhausted = 341;

    // 350–359: authentication rules (Edge/Rules: jwt, forward_auth).
    public const int JwtRejected = 350;
    public const int JwksUnavailable = 351;
    public const int JwksAvailable = 352;
    public const int ForwardAuthUnavailable = 353;
    public const int ForwardAuthAvailable = 354;
    // 360–369: the oidc login gate (Edge/Rules/Oidc).
    public const int OidcProviderUnreachable = 360;
    public const int OidcProviderReachable = 361;
    public const int OidcSignedIn = 362;
    public const int OidcRefused = 363;
    public const int OidcCallbackFailed = 364;
    public const int OidcSessionEnded = 365;

    // 400–419: TLS certificates and upstream TLS (Edge/Tls).
    public const int TlsCertificateLoaded = 400;
    public const int TlsProblem = 401;
    public const int TlsNoCertificate = 402;
    public const int TlsInsecureUpstream = 403;
    public const int TlsCertificateExpiresSoon = 404;
    public const int TlsCertificateExpired = 405;

    // 420–429: ACME protocol and challenges (Edge/Acme, Edge/Acme/Dns01).
    public const int AcmeBadNonce = 420;
    public const int AcmeAnsweringChallenge = 421;
    public const int AcmeDnsRecordPresented = 422;
    public const int AcmeDnsRecordVisible = 423;
    public const int AcmeDnsRecordRemoved = 424;
    public const int AcmeDnsExecOutput = 425;
    public const int AcmeDnsCleanupFailed = 426;
    public const int AcmeAccountRegistered = 427;

    // 430–439: ACME certificate management (Edge/Acme/AcmeManager).
    public const int AcmeIssuing = 430;
    public const int AcmeIssued = 431;
    public const int AcmeOrderFailed = 432;
    public const int AcmeLoadedFromDisk = 433;
    public const int AcmeStoredUnusable = 434;
    public const int AcmeIdle = 435;
    public const int AcmeCannotStart = 436;
    public const int AcmeCapReached = 437;
    public const int AcmeNotifyFailed = 438;

    // 500–599: HTTP cache (Edge/Caching).
    public const int CacheRevalidationFailed = 500;
    public const int CacheDiskError = 501;
    public const int CacheDiskLoaded = 502;

    // 600–609: tunnel sessions and names (Edge/Tunnels/TunnelRegistry).
    public const int TunnelOpened = 600;
    public const int TunnelSessionOffline = 601;
    public const int TunnelNameReleased = 602;
    public const int TunnelGrantsNotSent = 603;

    // 610–619: tunnel link handshake (Edge/Tunnels/TunnelLinkEndpoint).
    public const int TunnelLinkRefused = 610;
    public const int TunnelLinkRefusedWhileStopping = 611;

    // 620–629: TCP tunnels (Edge/Tunnels/TcpTunnelListener).
    public const int TcpTunnelNoAgent = 620;
    public const int TcpTunnelAgentRefused = 621;
    public const int TcpTunnelStreamEnded = 622;
    public const int TcpTunnelTokenBusy = 623;
    public const int TunnelTokenBusy = 624;

    // 630–639: tunnel drain at shutdown (Edge/Tunnels/TunnelShutdown).
    public const int TunnelDraining = 630;
    public const int TunnelDrained = 631;
    public const int TunnelDrainTimedOut = 632;
}
