using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;

namespace Portway.Edge.Clients;

/// <summary>
/// The one definition of "the client's address" on the edge, used by the access log, the address
/// rules, the rate-limit key, error pages, consistent hashing, the address passed to tunnel agents
/// and the geo lookup: the socket peer; or, when the peer is one of <c>forwarded.trusted_proxies</c>,
/// the address its <c>Forwarded</c> (RFC 7239, preferred when present) or <c>X-Forwarded-For</c> names,
/// walking from the right past every hop that is itself a trusted proxy (nginx's
/// <c>real_ip_recursive on</c>, Traefik's trusted-IPs rule). Each proxy appends the address it saw,
/// so the rightmost untrusted hop is the first one no trusted party vouches for beyond; anything to
/// its left is what the client claimed. An unusable hop reached by that walk falls back to the peer;
/// a chain of trusted proxies only gives its leftmost hop. IPv4-mapped IPv6 peers (dual-stack
/// listeners) are given as IPv4. Not used for a tunnel agent's link, whose socket is what counts.
/// </summary>
internal static class ClientAddress
{
    /// <summary>The client's address; <see cref="Resolve"/> ran first on the request path, else the socket peer.</summary>
    public static IPAddress? Of(HttpContext context) => Feature(context)?.Address ?? context.Connection.RemoteIpAddress;

    /// <summary>True when the client's address came from a trusted proxy's header rather than the socket.</summary>
    public static bool IsForwarded(HttpContext context) => Feature(context)?.Forwarded == true;

    /// <summary>
    /// By the collection's indexer, not <c>Get&lt;T&gt;</c>: that is a generic virtual call, and on
    /// Kestrel's collection a miss (the usual case: nothing set) asks the connection's features too,
    /// a second one; several rules ask per request.
    /// </summary>
    private static ClientAddressFeature? Feature(HttpContext context) =>
        (ClientAddressFeature?)context.Features[typeof(ClientAddressFeature)];

    /// <summary>
    /// Works the address out once per request, at the start of the request path. Allocates nothing
    /// for a peer that is not a trusted proxy (the address Kestrel already holds is the answer).
    /// </summary>
    public static void Resolve(HttpContext context, ForwardedConfig config)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null) return;
        var mapped = peer.IsIPv4MappedToIPv6;
        if (mapped) peer = peer.MapToIPv4();
        if (!TrustedProxies.Contains(config, peer))
        {
            if (mapped) context.Features.Set(new ClientAddressFeature(peer, forwarded: false));
            return;
        }
        var client = FromHeaders(context.Request.Headers, config);
        if (client is not null) context.Features.Set(new ClientAddressFeature(client, forwarded: true));
        else if (mapped) context.Features.Set(new ClientAddressFeature(peer, forwarded: false));
    }

    /// <summary>The forwarded client of a request from a trusted peer; null when the headers name none (the peer is the client then).</summary>
    internal static IPAddress? FromHeaders(IHeaderDictionary headers, ForwardedConfig config)
    {
        var hops = new List<IPAddress?>();
        var forwarded = headers["Forwarded"];
        if (forwarded.Count > 0) ForwardedChain.ReadForwarded(forwarded, hops);
        else ForwardedChain.ReadXForwardedFor(headers["X-Forwarded-For"], hops);
        for (var i = hops.Count - 1; i >= 0; i--)
        {
            var hop = hops[i];
            if (hop is null) return null;
            if (!TrustedProxies.Contains(config, hop)) return hop;
        }
        return hops.Count > 0 ? hops[0] : null;
    }
}
