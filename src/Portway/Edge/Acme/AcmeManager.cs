using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Settings;
using Portway.Edge.Tls;

namespace Portway.Edge.Acme;

/// <summary>
/// Keeps a certificate for every <c>certificate: auto</c> site (and requested tunnel name): loads
/// what is on disk at start, issues what is missing, renews inside the ARI window or at 2/3 of the
/// lifetime, and backs off exponentially after failures (honouring the CA's Retry-After). It runs
/// beside the server and never holds up a handshake: a host without a certificate yet simply has none.
/// </summary>
internal sealed partial class AcmeManager(
    EdgeState state, TlsManager tls, AcmeChallengeStore challenges, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<AcmeManager> logger) : BackgroundService, IAutomaticCertificates
{
    private readonly Dictionary<string, Managed> _managed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _tunnelNames = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _pending = new(StringComparer.OrdinalIgnoreCase);
    private readonly OrderCap _cap = new(time);
    private DateTimeOffset _capLogged;
    private readonly SemaphoreSlim _wake = new(0);
    private AcmeConfig? _clientConfig;
    private AcmeClient? _client;
    private AcmeStorage? _storage;
    private HttpClient? _http;

    private sealed class Managed(string key, ImmutableArray<string> hosts, bool isSite, string? challenge)
    {
        public string Key { get; } = key;
        /// <summary>The site's own challenge type (always dns-01 for a wildcard); null = acme.challenges.</summary>
        public string? Challenge { get; } = challenge;
        public ImmutableArray<string> Hosts { get; } = hosts;
        public bool IsSite { get; } = isSite;
        public DateTimeOffset Next { get; set; }
        public int Failures { get; set; }
        public ServedCertificate? Certificate { get; set; }
        /// <summary>Set after an order naming the replaced certificate failed: the next one leaves it out.</summary>
        public bool SkipReplaces { get; set; }
    }

    public bool Request(string host)
    {
        var config = state.Current;
        if (!config.Tls.Acme.Tunnels) return false;
        var name = host.ToLowerInvariant().TrimEnd('.');
        var under = false;
        foreach (var d in config.Tunnels.Domains)
            under |= d != "localhost" && name.EndsWith("." + d, StringComparison.Ordinal) && name.Length > d.Length + 1;
        if (!under) return false;
        if (_tunnelNames.TryAdd(name, 0))
        {
            if (!HasCertificate(name)) _pending[name] = $"ordering a certificate from {config.Tls.Acme.Directory.Host}";
            Wake();
        }
        return true;
    }

    public void Release(string host)
    {
        var name = host.ToLowerInvariant().TrimEnd('.');
        _pending.TryRemove(name, out _);
        if (_tunnelNames.TryRemove(name, out _)) Wake();
    }

    public bool SiteRedirects(string host) => tls.Store.SiteFor(host) is { RedirectHttp: true } && HasCertificate(host);

    public string? PendingReason(string host)
    {
        if (HasCertificate(host)) return null;
        if (_pending.TryGetValue(host.ToLowerInvariant().TrimEnd('.'), out var reason)) return reason;
        // A certificate: auto site covering the name (tunnels: wildcard, or one written by hand).
        if (tls.Store.SiteFor(host) is not { Source: CertificateSource.Acme } site) return null;
        return tls.Problems.TryGetValue(CertificateStore.SiteKey(site), out var problem) ? problem
            : $"ordering the certificate for {string.Join(", ", site.Hosts)} from {state.Current.Tls.Acme.Directory.Host}";
    }

    public event Action<string>? Changed;

    private void SetPending(Managed entry, string? reason)
    {
        if (!entry.IsSite)
        {
            if (reason is null) _pending.TryRemove(entry.Hosts[0], out _);
            else _pending[entry.Hosts[0]] = reason;
        }
        // Sites too: a wildcard site's certificate changes the URLs of every tunnel name under it.
        foreach (var host in entry.Hosts)
        {
            try
            {
                Changed?.Invoke(host);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogNotifyFailed(host, e.Message);
            }
        }
    }

    /// <summary>badNonce refusals survived by the current ACME client.</summary>
    public int BadNonceRetries => _client?.BadNonceRetries ?? 0;

    public bool HasCertificate(string host) => tls.Store.Covering(host) is not null;

    private void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        state.Changed += OnConfigChanged;
        try
        {
            // Certificates already on disk are installed before the server accepts its first connection.
            TrySync(state.Current);
            if (_managed.Count == 0 && !state.Current.Tls.Acme.Tunnels) LogIdle();
            // Validation needs the listeners up: wait for the server to start.
            await WhenStartedAsync(ct);
            while (!ct.IsCancellationRequested)
            {
                TrySync(state.Current);
                var now = time.GetUtcNow();
                var next = now + TimeSpan.FromHours(1);
                foreach (var entry in _managed.Values.ToList())
                {
                    if (entry.Next <= now) await RunAsync(entry, state.Current.Tls.Acme, ct);
                    if (entry.Next < next) next = entry.Next;
                }
                var wait = next - time.GetUtcNow();
                if (wait > TimeSpan.Zero) await WaitAsync(wait, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            state.Changed -= OnConfigChanged;
            _http?.Dispose();
        }
    }

    private void OnConfigChanged(PortwayConfig config) => Wake();

    private Task WhenStartedAsync(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(ct);
    }

    private async Task WaitAsync(TimeSpan wait, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await _wake.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }

    private void TrySync(PortwayConfig config)
    {
        try
        {
            Sync(config);
            tls.SetProblem("acme", null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            // An unwritable storage folder or unreadable ca_root must not stop the edge: report and retry later.
            var message = $"ACME cannot start: {e.Message} (check tls.acme.storage {config.Tls.Acme.Storage} and tls.acme.ca_root)";
            tls.SetProblem("acme", message);
            LogCannotStart(message);
            _client = null;
        }
    }

    /// <summary>Brings the managed set in line with the config and the requested tunnel names.</summary>
    private void Sync(PortwayConfig config)
    {
        var acme = config.Tls.Acme;
        var wanted = new Dictionary<string, (ImmutableArray<string> Hosts, bool IsSite, string? Challenge)>(StringComparer.Ordinal);
        foreach (var site in config.Tls.Sites)
        {
            if (site.Source == CertificateSource.Acme) wanted[CertificateStore.SiteKey(site)] = (site.Hosts, true, site.Challenge);
        }
        if (acme.Tunnels)
        {
            foreach (var name in _tunnelNames.Keys) wanted.TryAdd("tunnel|" + name, ([name], false, null));
        }
        // Another CA (staging → production, docs/deploy.md) or storage: order every name from it now, not at
        // the old certificate's renewal date; the old ones stay served until their replacements arrive.
        if (_clientConfig is not null && (acme.Directory != _clientConfig.Directory || acme.Storage != _clientConfig.Storage)) _managed.Clear();
        foreach (var (key, entry) in _managed.ToList())
        {
            if (wanted.ContainsKey(key)) continue;
            _managed.Remove(key);
            if (!entry.IsSite) tls.Store.SetName(entry.Hosts[0], null);
        }
        if (wanted.Count == 0) return;
        EnsureClient(acme);
        foreach (var (key, (hosts, isSite, challenge)) in wanted)
        {
            // A reload that changes a site's challenge type takes effect now (a renewal not yet due still waits).
            if (_managed.TryGetValue(key, out var known) && known.Challenge == challenge) continue;
            var entry = new Managed(key, hosts, isSite, challenge) { Next = time.GetUtcNow() };
            _managed[key] = entry;
            var stored = LoadStored(hosts);
            if (stored is not null) Install(entry, stored);
        }
    }

    private ServedCertificate? LoadStored(ImmutableArray<string> hosts)
    {
        try
        {
            var files = _storage!.Load(hosts[0]);
            if (files is null) return null;
            var folder = _storage.CertificateFolder(hosts[0]);
            var cert = CertificateFiles.FromPem(files.Value.Chain, files.Value.Key, time.GetUtcNow(), "acme",
                Path.Combine(folder, "fullchain.pem"), Path.Combine(folder, "key.pem"));
            foreach (var h in hosts)
            {
                if (!Names(cert.Leaf).Contains(h)) return null; // the site gained a name: issue anew
            }
            LogLoadedFromDisk(string.Join(", ", hosts), cert.NotAfter);
            return cert;
        }
        catch (Exception e) when (e is CertificateLoadException or IOException or UnauthorizedAccessException)
        {
            LogStoredUnusable(string.Join(", ", hosts), e.Message);
            return null;
        }
    }

    /// <summary>The certificate's DNS names as written ("*.example.com" stays a wildcard, unlike MatchesHostname's view).</summary>
    private static HashSet<string> Names(X509Certificate2 leaf)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var ext in leaf.Extensions)
        {
            if (ext is X509SubjectAlternativeNameExtension san)
            {
                foreach (var n in san.EnumerateDnsNames()) names.Add(n);
            }
        }
        return names;
    }

    private void Install(Managed entry, ServedCertificate cert)
    {
        entry.Certificate = cert;
        if (entry.IsSite) tls.Store.Set(entry.Key, cert);
        else tls.Store.SetName(entry.Hosts[0], cert);
        SetPending(entry, null); // the tunnels print https:// from now on
    }

    private void EnsureClient(AcmeConfig acme)
    {
        if (_client is not null && acme.Directory == _clientConfig!.Directory && acme.CaRoot == _clientConfig.CaRoot
            && acme.Storage == _clientConfig.Storage) return;
        _http?.Dispose();
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (acme.CaRoot is { } rootFile)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(rootFile);
            // The CA's own HTTPS (Pebble, a private CA): the one chain check the upstream and link code use too.
            handler.SslOptions.RemoteCertificateValidationCallback = Portway.Security.CustomRootTrust.Callback(roots);
        }
        // RFC 8555 §6.1: clients send a User-Agent naming themselves.
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Portway/0.1 (ACME; RFC 8555)");
        _storage = new AcmeStorage(acme.Storage, acme.Directory);
        // The stored account is reused as it is: no newAccount, so no External Account Binding is needed again.
        _client = new AcmeClient(_http, acme.Directory, _storage.LoadOrCreateAccountKey(), logger) { AccountUrl = _storage.LoadAccountUrl() };
        _clientConfig = acme;
    }

    private async Task RunAsync(Managed entry, AcmeConfig acme, CancellationToken ct)
    {
        var hosts = string.Join(", ", entry.Hosts);
        try
        {
            EnsureClient(acme);
            string? replaces = null;
            if (entry.Certificate is { } current && current.NotAfter > time.GetUtcNow())
            {
                var (due, ariOffered) = await PlanAsync(current, acme, ct);
                if (due > time.GetUtcNow())
                {
                    entry.Next = due;
                    return;
                }
                if (ariOffered && !entry.SkipReplaces) replaces = AcmeClient.CertificateId(current.Leaf);
            }
            // New tunnel names share an hourly cap (renewals and sites do not): see AcmeConfig.TunnelOrdersPerHour.
            if (!entry.IsSite && entry.Certificate is null && !_cap.TryTake(acme.TunnelOrdersPerHour, out var slot))
            {
                entry.Next = slot;
                SetPending(entry, $"waiting for a slot: the edge orders at most {acme.TunnelOrdersPerHour} new tunnel certificates per hour (tls.acme.tunnel_orders_per_hour); next try at {slot:HH:mm:ss} UTC");
                if (time.GetUtcNow() - _capLogged >= OrderCap.Window)
                {
                    _capLogged = time.GetUtcNow();
                    LogCapReached(acme.TunnelOrdersPerHour, slot);
                }
                return;
            }
            LogIssuing(hosts, entry.Certificate is null ? "no certificate yet" : "renewal due", acme.Directory);
            var (account, created) = await _client!.EnsureAccountAsync(acme.Email, acme.Eab, ct);
            if (created) _storage!.SaveAccountUrl(account);
            var issuer = new AcmeIssuer(_client!, challenges, entry.Challenge is { } only ? acme with { Challenges = [only] } : acme, time, logger);
            var (chain, key) = await issuer.IssueAsync(entry.Hosts, replaces, ct);
            var (chainFile, keyFile) = _storage!.Save(entry.Hosts[0], chain, key);
            var cert = CertificateFiles.FromPem(chain, key, time.GetUtcNow(), "acme", chainFile, keyFile);
            Install(entry, cert);
            tls.SetProblem(entry.Key, null);
            entry.Failures = 0;
            entry.SkipReplaces = false;
            LogIssued(hosts, cert.NotAfter, chainFile);
            entry.Next = (await PlanAsync(cert, acme, ct)).Due;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
        {
            entry.Failures++;
            // A CA may refuse "replaces" (RFC 9773 §5: already replaced, unknown); that must not block renewal for good.
            entry.SkipReplaces = entry.Certificate is not null;
            var retryAfter = (e as AcmeProblemException)?.RetryAfter;
            var wait = RenewalPlanner.Backoff(entry.Failures, acme.RetryMin, acme.RetryMax, retryAfter);
            entry.Next = time.GetUtcNow() + wait;
            var problem = e switch
            {
                AcmeProblemException p => $"the CA answered {p.Problem.Type}: {p.Problem.Detail} (HTTP {p.HttpStatus}) while {Describe(p)}{(p.Hint is null ? "" : "; " + p.Hint)}",
                AcmeOrderException o => o.Message,
                HttpRequestException h => $"cannot reach the CA at {acme.Directory}: {h.Message}",
                _ => e.Message,
            };
            tls.SetProblem(entry.Key, $"{hosts}: ACME order failed: {problem}");
            if (entry.Certificate is null) SetPending(entry, $"the certificate order failed ({problem}); next try at {entry.Next:HH:mm:ss} UTC");
            LogFailed(hosts, problem, entry.Failures, wait,
                entry.Certificate is null ? "no certificate is served for these names yet" : $"the current certificate (valid until {entry.Certificate.NotAfter:u}) is still served");
        }
    }

    private static string Describe(AcmeProblemException e)
    {
        var message = e.Message;
        var colon = message.IndexOf(':');
        return colon > 0 ? message[..colon] : "talking to the CA";
    }

    /// <summary>When to renew, and whether the CA offers ARI (then the new order names the one it replaces).</summary>
    private async Task<(DateTimeOffset Due, bool AriOffered)> PlanAsync(ServedCertificate cert, AcmeConfig acme, CancellationToken ct)
    {
        var byLifetime = RenewalPlanner.ByLifetime(cert.NotBefore, cert.NotAfter, acme.RenewAt);
        try
        {
            var (info, retryAfter) = await _client!.GetRenewalInfoAsync(cert.Leaf, ct);
            if (info is null) return (byLifetime, false);
            var now = time.GetUtcNow();
            var due = RenewalPlanner.InWindow(info.SuggestedWindow, Random.Shared.NextDouble(), now);
            // RFC 9773 §4.3: poll again after Retry-After (default 6 hours), the window may move.
            var recheck = now + (retryAfter ?? TimeSpan.FromHours(6));
            return (due < recheck ? due : recheck, true);
        }
        catch (Exception e) when (e is HttpRequestException or AcmeProblemException or System.Text.Json.JsonException)
        {
            return (byLifetime, false);
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = EventIds.AcmeIssuing, Level = LogLevel.Information, Message = "ACME: requesting a certificate for {Hosts} ({Reason}) from {Directory}")]
    private partial void LogIssuing(string hosts, string reason, Uri directory);

    [LoggerMessage(EventId = EventIds.AcmeIssued, Level = LogLevel.Information, Message = "ACME: serving a new certificate for {Hosts}, valid until {NotAfter:u}, stored in {File}")]
    private partial void LogIssued(string hosts, DateTimeOffset notAfter, string file);

    [LoggerMessage(EventId = EventIds.AcmeOrderFailed, Level = LogLevel.Error, Message = "ACME: {Hosts}: {Problem}; attempt {Failures}, next try in {Wait}; {Consequence}")]
    private partial void LogFailed(string hosts, string problem, int failures, TimeSpan wait, string consequence);

    [LoggerMessage(EventId = EventIds.AcmeLoadedFromDisk, Level = LogLevel.Information, Message = "ACME: loaded the stored certificate for {Hosts}, valid until {NotAfter:u}")]
    private partial void LogLoadedFromDisk(string hosts, DateTimeOffset notAfter);

    [LoggerMessage(EventId = EventIds.AcmeStoredUnusable, Level = LogLevel.Warning, Message = "ACME: the stored certificate for {Hosts} cannot be used ({Reason}); a new one will be requested")]
    private partial void LogStoredUnusable(string hosts, string reason);

    [LoggerMessage(EventId = EventIds.AcmeCapReached, Level = LogLevel.Warning, Message = "ACME: the cap of {PerHour} new tunnel certificates per hour is reached (tls.acme.tunnel_orders_per_hour); further new names wait, the next slot is at {Slot:u}")]
    private partial void LogCapReached(int perHour, DateTimeOffset slot);

    [LoggerMessage(EventId = EventIds.AcmeNotifyFailed, Level = LogLevel.Warning, Message = "ACME: telling the tunnels about {Host} failed: {Reason}")]
    private partial void LogNotifyFailed(string host, string reason);

    [LoggerMessage(EventId = EventIds.AcmeCannotStart, Level = LogLevel.Error, Message = "{Message}")]
    private partial void LogCannotStart(string message);

    [LoggerMessage(EventId = EventIds.AcmeIdle, Level = LogLevel.Debug, Message = "ACME: no certificate: auto sites; idle")]
    private partial void LogIdle();
}
