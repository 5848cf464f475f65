using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Clients;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// What a consistent_hash cluster hashes on: clusters[].hash_on = client_ip | header:NAME | cookie:NAME.
/// A request without the header or cookie falls back to the client's IP, so one client still sticks to
/// one destination (nginx would fall back to round robin, which spreads a client's requests).
/// </summary>
internal sealed class HashKey
{
    private enum Kind { ClientIp, Header, Cookie }

    private readonly Kind _kind;
    private readonly string _name;

    private HashKey(Kind kind, string name)
    {
        _kind = kind;
        _name = name;
    }

    public static readonly HashKey ClientIp = new(Kind.ClientIp, "");

    /// <summary>Parses the hash_on value; anything unknown means client_ip (the config loader rejects it before this).</summary>
    public static HashKey Parse(string? hashOn)
    {
        if (hashOn is null) return ClientIp;
        if (hashOn.StartsWith("header:", StringComparison.Ordinal) && hashOn.Length > 7) return new HashKey(Kind.Header, hashOn[7..]);
        if (hashOn.StartsWith("cookie:", StringComparison.Ordinal) && hashOn.Length > 7) return new HashKey(Kind.Cookie, hashOn[7..]);
        return ClientIp;
    }

    /// <summary>The request's key hash, or null when the request has no usable key at all.</summary>
    public ulong? Hash(HttpContext context)
    {
        if (_kind == Kind.Header)
        {
            var values = context.Request.Headers[_name];
            if (values.Count > 0 && values[0] is { Length: > 0 } value) return StableHash.Of(value.AsSpan());
        }
        else if (_kind == Kind.Cookie)
        {
            if (context.Request.Cookies.TryGetValue(_name, out var value) && value.Length > 0) return StableHash.Of(value.AsSpan());
        }
        return HashClientIp(ClientAddress.Of(context));
    }

    private static ulong? HashClientIp(IPAddress? address)
    {
        if (address is null) return null;
        // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; hash them as the IPv4 address
        // so the same client maps to the same destination whichever listener it came through.
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out var written) ? StableHash.Of(bytes[..written]) : null;
    }
}
