using System.Security.Cryptography.X509Certificates;
using Portway.Configuration;

namespace Portway.Edge.Tls;

/// <summary>
/// Routes that require a client certificate, and the host names whose handshakes must ask for one
/// (TLS asks during the handshake, before the route is known; HTTP/2 forbids asking later,
/// RFC 9113 §9.2.1). A route without hosts makes every handshake ask.
/// </summary>
internal sealed class ClientAuthTable
{
    public static readonly ClientAuthTable Empty = new(new(StringComparer.OrdinalIgnoreCase), new(StringComparer.OrdinalIgnoreCase), false);

    private readonly Dictionary<string, RouteRule> _routes;
    private readonly HashSet<string> _hosts;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _hostLookup;
    private readonly bool _allHosts;

    private ClientAuthTable(Dictionary<string, RouteRule> routes, HashSet<string> hosts, bool allHosts)
    {
        _routes = routes;
        _hosts = hosts;
        _hostLookup = hosts.GetAlternateLookup<ReadOnlySpan<char>>();
        _allHosts = allHosts;
    }

    public bool IsEmpty => _routes.Count == 0;

    public sealed record RouteRule(X509Certificate2Collection Roots, string Header);

    /// <summary>Builds the table; a CA file that cannot be read is reported and its route refuses everyone.</summary>
    public static ClientAuthTable Build(PortwayConfig config, Action<string, string> reportProblem)
    {
        if (config.Tls.ClientAuth.IsEmpty) return Empty;
        var routes = new Dictionary<string, RouteRule>(StringComparer.OrdinalIgnoreCase);
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var all = false;
        foreach (var rule in config.Tls.ClientAuth)
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPemFile(rule.CaFile);
                if (roots.Count == 0) reportProblem($"client_auth:{rule.RouteId}", $"{rule.CaFile}: no certificate found; route '{rule.RouteId}' refuses every client until it is fixed");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                reportProblem($"client_auth:{rule.RouteId}", $"{rule.CaFile}: cannot read the CA file ({e.Message}); route '{rule.RouteId}' refuses every client until it is fixed");
            }
            routes[rule.RouteId] = new RouteRule(roots, rule.SubjectHeader);
            foreach (var route in config.Routes)
            {
                if (!string.Equals(route.Id, rule.RouteId, StringComparison.OrdinalIgnoreCase)) continue;
                if (route.Hosts.IsEmpty) all = true;
                foreach (var h in route.Hosts)
                {
                    var colon = h.LastIndexOf(':');
                    hosts.Add(colon > 0 && !h.EndsWith(']') ? h[..colon] : h);
                }
            }
        }
        return new ClientAuthTable(routes, hosts, all);
    }

    public RouteRule? ForRoute(string routeId) => _routes.GetValueOrDefault(routeId);

    public bool AsksFor(ReadOnlySpan<char> serverName)
    {
        if (_allHosts) return true;
        if (_hosts.Count == 0) return false;
        if (serverName.Length == 0) return false;
        if (_hostLookup.Contains(serverName)) return true;
        var dot = serverName.IndexOf('.');
        if (dot <= 0) return false;
        // A route host "*.example.com" is stored with its star.
        Span<char> wild = stackalloc char[serverName.Length - dot + 1];
        wild[0] = '*';
        serverName[dot..].CopyTo(wild[1..]);
        return _hostLookup.Contains(wild);
    }
}
