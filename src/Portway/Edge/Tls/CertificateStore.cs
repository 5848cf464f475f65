using System.Collections.Immutable;
using Portway.Configuration;

namespace Portway.Edge.Tls;

/// <summary>
/// The certificates being served, chosen per connection by SNI: an exact name first, then a
/// wildcard covering exactly one label (RFC 6125 §6.4.3: *.example.com matches a.example.com, not
/// a.b.example.com nor example.com), then the default. Readers take one volatile snapshot per
/// handshake; writers (file watcher, ACME) rebuild it under a lock, which is rare.
/// </summary>
internal sealed class CertificateStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServedCertificate> _bySite = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServedCertificate> _names = new(StringComparer.OrdinalIgnoreCase);
    private ImmutableArray<TlsSiteConfig> _sites = [];
    private volatile Table _table = Table.Empty;

    public event Action? Changed;

    /// <summary>Key that identifies a site across reloads.</summary>
    public static string SiteKey(TlsSiteConfig site) =>
        site.Default ? "default|" + string.Join(",", site.Hosts) : string.Join(",", site.Hosts);

    public ImmutableArray<TlsSiteConfig> Sites => _sites;

    public void SetSites(ImmutableArray<TlsSiteConfig> sites)
    {
        lock (_lock)
        {
            _sites = sites;
            var keep = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in sites) keep.Add(SiteKey(s));
            foreach (var key in _bySite.Keys.ToList())
            {
                if (!keep.Contains(key)) _bySite.Remove(key);
            }
            Rebuild();
        }
    }

    /// <summary>Installs (or with null, removes) the certificate for a site; new connections get it at once.</summary>
    public void Set(string siteKey, ServedCertificate? certificate)
    {
        lock (_lock)
        {
            if (certificate is null) _bySite.Remove(siteKey);
            else _bySite[siteKey] = certificate;
            Rebuild();
        }
        Changed?.Invoke();
    }

    /// <summary>A certificate for one name outside tls.sites (a tunnel name issued over ACME); null removes it.</summary>
    public void SetName(string host, ServedCertificate? certificate)
    {
        lock (_lock)
        {
            if (certificate is null) _names.Remove(host);
            else _names[host] = certificate;
            Rebuild();
        }
        Changed?.Invoke();
    }

    public ServedCertificate? Get(string siteKey)
    {
        lock (_lock) return _bySite.GetValueOrDefault(siteKey);
    }

    /// <summary>The certificate for a server name, or the default; null when there is none.</summary>
    public ServedCertificate? Select(string? serverName) => _table.Select(serverName, useDefault: true);

    /// <summary>The certificate that covers exactly this host (no default), for redirect decisions.</summary>
    public ServedCertificate? Covering(ReadOnlySpan<char> host) => _table.Select(host, useDefault: false);

    /// <summary>The configured site for a host, whether or not its certificate is loaded yet.</summary>
    public TlsSiteConfig? SiteFor(ReadOnlySpan<char> host) => _table.Site(host);

    private void Rebuild()
    {
        var exact = new Dictionary<string, (TlsSiteConfig, ServedCertificate?)>(StringComparer.OrdinalIgnoreCase);
        var wild = new Dictionary<string, (TlsSiteConfig, ServedCertificate?)>(StringComparer.OrdinalIgnoreCase);
        ServedCertificate? fallback = null;
        foreach (var site in _sites)
        {
            var cert = _bySite.GetValueOrDefault(SiteKey(site));
            if (site.Default) fallback = cert;
            foreach (var host in site.Hosts)
            {
                if (host.StartsWith("*.", StringComparison.Ordinal)) wild[host[2..]] = (site, cert);
                else exact[host] = (site, cert);
            }
        }
        foreach (var (host, cert) in _names)
            exact.TryAdd(host, (new TlsSiteConfig { Hosts = [host], Source = CertificateSource.Acme }, cert));
        _table = new Table(exact, wild, fallback);
    }

    private sealed class Table(
        Dictionary<string, (TlsSiteConfig Site, ServedCertificate? Cert)> exact,
        Dictionary<string, (TlsSiteConfig Site, ServedCertificate? Cert)> wild,
        ServedCertificate? fallback)
    {
        public static readonly Table Empty = new(new(StringComparer.OrdinalIgnoreCase), new(StringComparer.OrdinalIgnoreCase), null);

        private readonly Dictionary<string, (TlsSiteConfig Site, ServedCertificate? Cert)>.AlternateLookup<ReadOnlySpan<char>> _exact =
            exact.GetAlternateLookup<ReadOnlySpan<char>>();
        private readonly Dictionary<string, (TlsSiteConfig Site, ServedCertificate? Cert)>.AlternateLookup<ReadOnlySpan<char>> _wild =
            wild.GetAlternateLookup<ReadOnlySpan<char>>();

        public ServedCertificate? Select(ReadOnlySpan<char> name, bool useDefault)
        {
            if (name.Length > 0)
            {
                name = name.TrimEnd('.');
                if (_exact.TryGetValue(name, out var e) && e.Cert is not null) return e.Cert;
                var dot = name.IndexOf('.');
                if (dot > 0 && _wild.TryGetValue(name[(dot + 1)..], out var w) && w.Cert is not null) return w.Cert;
            }
            return useDefault ? fallback : null;
        }

        public TlsSiteConfig? Site(ReadOnlySpan<char> name)
        {
            if (name.Length == 0) return null;
            name = name.TrimEnd('.');
            if (_exact.TryGetValue(name, out var e)) return e.Site;
            var dot = name.IndexOf('.');
            return dot > 0 && _wild.TryGetValue(name[(dot + 1)..], out var w) ? w.Site : null;
        }
    }
}
