using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Settings;

namespace Portway.Edge.Tls;

/// <summary>
/// Terminates TLS on the https listeners: picks the certificate per connection by SNI, answers
/// tls-alpn-01 validators, asks for client certificates where a route needs them, and keeps the
/// file-based certificates current (config reloads and file replacement). A certificate that
/// cannot be loaded is reported with its hosts and file; every other site keeps being served.
/// </summary>
internal sealed partial class TlsManager : IDisposable
{
    private readonly EdgeState _state;
    private readonly AcmeChallengeStore _challenges;
    private readonly TimeProvider _time;
    private readonly ILogger<TlsManager> _logger;
    private readonly ConcurrentDictionary<string, string> _problems = new(StringComparer.Ordinal);
    private readonly Lock _applyLock = new();
    private readonly Lock _reloadLock = new();
    private CertificateFileWatcher? _watcher;
    private readonly Meter _meter = new(Metrics.EdgeMetrics.MeterName);
    private readonly ITimer _expiryCheck;
    private volatile ClientAuthTable _clientAuth = ClientAuthTable.Empty;
    private volatile TlsConfig? _applied;

    public TlsManager(EdgeState state, CertificateStore store, AcmeChallengeStore challenges, TimeProvider time, ILogger<TlsManager> logger)
    {
        _state = state;
        Store = store;
        _challenges = challenges;
        _time = time;
        _logger = logger;
        Apply(state.Current);
        state.Changed += Apply;
        // Scraped as portway_tls_certificate_expiry_seconds{hosts}: alert on it the way Prometheus' blackbox exporter users do on probe_ssl_earliest_cert_expiry.
        _meter.CreateObservableGauge("portway.tls.certificate.expiry", ObserveExpiry, "s", "Seconds until each served certificate expires");
        // Twice a day is enough for a warning that starts 14 days ahead (file certificates only; ACME renews its own).
        _expiryCheck = time.CreateTimer(_ => CheckExpiry(), null, TimeSpan.FromMinutes(1), TimeSpan.FromHours(12));
    }

    private IEnumerable<Measurement<double>> ObserveExpiry()
    {
        var now = _time.GetUtcNow();
        foreach (var site in Store.Sites)
        {
            if (Store.Get(CertificateStore.SiteKey(site)) is { } cert)
                yield return new Measurement<double>((cert.NotAfter - now).TotalSeconds, new KeyValuePair<string, object?>("hosts", site.Hosts.IsEmpty ? "default" : string.Join(",", site.Hosts)));
        }
    }

    /// <summary>Warns 14 days before a file certificate expires (Let's Encrypt's own reminder mails start at 20 days), errors once it has.</summary>
    public void CheckExpiry()
    {
        var now = _time.GetUtcNow();
        foreach (var site in Store.Sites)
        {
            if (site.Source == CertificateSource.Acme || Store.Get(CertificateStore.SiteKey(site)) is not { } cert) continue;
            var left = cert.NotAfter - now;
            if (left <= TimeSpan.Zero) LogExpired(site.Label, cert.Source, cert.NotAfter);
            else if (left < TimeSpan.FromDays(14)) LogExpiresSoon(site.Label, cert.Source, cert.NotAfter, (int)left.TotalDays);
        }
    }

    public CertificateStore Store { get; }

    public ClientAuthTable ClientAuth => _clientAuth;

    public TimeProvider Time => _time;

    /// <summary>Problems now in force, by site key: what cannot be served and why.</summary>
    public IReadOnlyDictionary<string, string> Problems => _problems;

    /// <summary>Adds TLS to an https listener (HTTP/1.1 and HTTP/2 by ALPN, per the listener's protocols).</summary>
    public void ConfigureListener(ListenOptions listen)
    {
        listen.Use(ClientHelloPeekMiddleware.Create(_challenges));
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = OnConnection,
            OnConnectionState = listen.Protocols,
            // Kestrel's default is 10 s; slowloris-style handshakes are cut off at the same bound.
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        });
    }

    private ValueTask<SslServerAuthenticationOptions> OnConnection(TlsHandshakeCallbackContext context)
    {
        var serverName = context.ClientHelloInfo.ServerName;
        var minVersion = _applied?.MinVersion ?? SslProtocols.Tls12;
        if (context.Connection.Features.Get<AcmeTlsOfferFeature>() is not null)
        {
            // RFC 8737 §3: answer "acme-tls/1" only with the challenge certificate, and only that protocol.
            if (_challenges.TryGetTlsAlpn01(serverName, out var challenge))
                return ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = challenge.Context,
                    ApplicationProtocols = TlsPolicy.AlpnAcme,
                    EnabledSslProtocols = TlsPolicy.Protocols(SslProtocols.Tls12),
                });
            throw new AuthenticationException($"acme-tls/1 offered for '{serverName}' but no tls-alpn-01 challenge is pending");
        }
        var certificate = Store.Select(serverName);
        if (certificate is null)
        {
            LogNoCertificate(serverName.Length == 0 ? "(no SNI)" : serverName);
            throw new AuthenticationException($"no certificate for '{serverName}' and no default certificate");
        }
        var protocols = (HttpProtocols)context.State!;
        var ciphers = _applied?.Ciphers == "mozilla_intermediate" ? TlsPolicy.CipherSuites : null;
        return ValueTask.FromResult(certificate.Options(protocols, _clientAuth.AsksFor(serverName), minVersion, ciphers));
    }

    private void Apply(PortwayConfig config)
    {
        lock (_applyLock)
        {
            var tls = config.Tls;
            foreach (var key in _problems.Keys)
            {
                if (key.StartsWith("client_auth:", StringComparison.Ordinal)) _problems.TryRemove(key, out _);
            }
            _clientAuth = ClientAuthTable.Build(config, ReportProblem);
            CheckUpstreams(config);
            if (_applied is not null && _applied.Sites.SequenceEqual(tls.Sites))
            {
                _applied = tls;
                return;
            }
            _applied = tls;
            Store.SetSites(tls.Sites);
            _watcher?.Dispose();
            _watcher = new CertificateFileWatcher(tls.Sites, ReloadFiles);
            ReloadFiles();
        }
    }

    /// <summary>(Re)loads every file-based site whose files changed; keeps the old certificate on errors.</summary>
    public void ReloadFiles()
    {
        lock (_reloadLock) ReloadFilesLocked();
    }

    private void ReloadFilesLocked()
    {
        var now = _time.GetUtcNow();
        foreach (var site in Store.Sites)
        {
            if (site.Source == CertificateSource.Acme) continue;
            var key = CertificateStore.SiteKey(site);
            var file = site.Source == CertificateSource.Pkcs12 ? site.Pkcs12File! : site.CertFile!;
            try
            {
                var loaded = site.Source == CertificateSource.Pkcs12
                    ? CertificateFiles.LoadPkcs12(file, site.Password, now, file)
                    : CertificateFiles.LoadPem(file, site.KeyFile!, now, file);
                var current = Store.Get(key);
                _problems.TryRemove(key, out _);
                if (current is not null && current.Leaf.Thumbprint == loaded.Leaf.Thumbprint) continue;
                Store.Set(key, loaded);
                LogLoaded(site.Label, file, loaded.NotAfter);
            }
            catch (CertificateLoadException e)
            {
                ReportProblem(key, $"{site.Label}: {e.Message}");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // This runs on the file watcher's timer thread, where an escaping exception would end
                // the process: whatever the file holds, keep the old certificate and say why.
                ReportProblem(key, $"{site.Label}: {file}: cannot be loaded ({e.GetType().Name}: {e.Message})");
            }
        }
    }

    private void CheckUpstreams(PortwayConfig config)
    {
        foreach (var key in _problems.Keys)
        {
            if (key.StartsWith("cluster:", StringComparison.Ordinal)) _problems.TryRemove(key, out _);
        }
        foreach (var cluster in config.Clusters)
        {
            if (cluster.Tls is not { } tls) continue;
            if (tls.Insecure) LogInsecureUpstream(cluster.Id);
            if (UpstreamTls.Check(cluster.Id, tls, _time.GetUtcNow()) is { } problem) ReportProblem("cluster:" + cluster.Id, problem);
        }
    }

    /// <summary>Records (or with null, clears) a problem for a site; ACME failures land here too.</summary>
    public void SetProblem(string key, string? message)
    {
        if (message is null) _problems.TryRemove(key, out _);
        else _problems[key] = message;
    }

    private void ReportProblem(string key, string message)
    {
        var previous = _problems.GetValueOrDefault(key);
        _problems[key] = message;
        if (previous == message) return;
        var consequence = key.Contains(':', StringComparison.Ordinal) ? "everything else is served as before"
            : Store.Get(key) is not null ? "the previous certificate is still served" : "the site has no certificate until this is fixed";
        LogProblem(message, consequence);
    }

    public void Dispose()
    {
        _state.Changed -= Apply;
        _watcher?.Dispose();
        _expiryCheck.Dispose();
        _meter.Dispose();
    }

    [LoggerMessage(EventId = EventIds.TlsCertificateLoaded, Level = LogLevel.Information, Message = "TLS: serving the certificate for {Hosts} from {File}, valid until {NotAfter:u}")]
    private partial void LogLoaded(string hosts, string file, DateTimeOffset notAfter);

    [LoggerMessage(EventId = EventIds.TlsProblem, Level = LogLevel.Error, Message = "TLS: {Problem}; {Consequence}")]
    private partial void LogProblem(string problem, string consequence);

    [LoggerMessage(EventId = EventIds.TlsInsecureUpstream, Level = LogLevel.Warning, Message = "TLS: cluster '{Cluster}' has tls.insecure: true; its servers' certificates are NOT checked, anyone on the path can impersonate them")]
    private partial void LogInsecureUpstream(string cluster);

    [LoggerMessage(EventId = EventIds.TlsCertificateExpiresSoon, Level = LogLevel.Warning, Message = "TLS: the certificate for {Hosts} from {File} expires on {NotAfter:u} (in {Days} days); replace the file (it is picked up without a restart) or use certificate: auto")]
    private partial void LogExpiresSoon(string hosts, string file, DateTimeOffset notAfter, int days);

    [LoggerMessage(EventId = EventIds.TlsCertificateExpired, Level = LogLevel.Error, Message = "TLS: the certificate for {Hosts} from {File} expired on {NotAfter:u}; browsers refuse it; replace the file (it is picked up without a restart)")]
    private partial void LogExpired(string hosts, string file, DateTimeOffset notAfter);

    [LoggerMessage(EventId = EventIds.TlsNoCertificate, Level = LogLevel.Debug, Message = "TLS: handshake refused, no certificate for {ServerName} and no default certificate")]
    private partial void LogNoCertificate(string serverName);
}
