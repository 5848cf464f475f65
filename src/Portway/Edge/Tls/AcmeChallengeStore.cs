using System.Collections.Concurrent;

namespace Portway.Edge.Tls;

/// <summary>
/// Challenge answers the edge is currently offering: http-01 key authorizations by token
/// (RFC 8555 §8.3) and tls-alpn-01 certificates by host name (RFC 8737 §3). Written by the issuer
/// for the few seconds a validation takes, read by the request pipeline and the TLS handshake.
/// </summary>
internal sealed class AcmeChallengeStore
{
    private readonly ConcurrentDictionary<string, string> _http01 = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ServedCertificate> _tlsAlpn01 = new(StringComparer.OrdinalIgnoreCase);
    private int _tlsAlpnCount;

    /// <summary>True while any tls-alpn-01 answer is offered: only then is the ClientHello inspected for ALPN.</summary>
    public bool AnyTlsAlpn => Volatile.Read(ref _tlsAlpnCount) > 0;

    public void AddHttp01(string token, string keyAuthorization) => _http01[token] = keyAuthorization;

    public void RemoveHttp01(string token) => _http01.TryRemove(token, out _);

    public bool TryGetHttp01(string token, out string keyAuthorization) => _http01.TryGetValue(token, out keyAuthorization!);

    public void AddTlsAlpn01(string host, ServedCertificate certificate)
    {
        if (_tlsAlpn01.TryAdd(host, certificate)) Interlocked.Increment(ref _tlsAlpnCount);
        else _tlsAlpn01[host] = certificate;
    }

    public void RemoveTlsAlpn01(string host)
    {
        if (_tlsAlpn01.TryRemove(host, out _)) Interlocked.Decrement(ref _tlsAlpnCount);
    }

    public bool TryGetTlsAlpn01(string? host, out ServedCertificate certificate)
    {
        certificate = null!;
        return host is not null && _tlsAlpn01.TryGetValue(host, out certificate!);
    }
}
