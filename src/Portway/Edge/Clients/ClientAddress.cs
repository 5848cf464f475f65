using System.Net;
using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Clients;

/// <summary>
/// The client's address, defined once for every rule, rate-limit key and log that needs it
/// (issue 12). For now the socket peer; the trusted-proxy definition (Forwarded /
/// X-Forwarded-For only from configured peers) replaces this body, and every caller follows.
/// </summary>
internal static class ClientAddress
{
    /// <summary>The client's address, IPv4-mapped IPv6 addresses as IPv4; null when the transport has none.</summary>
    public static IPAddress? Of(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        return remote is { IsIPv4MappedToIPv6: true } ? remote.MapToIPv4() : remote;
    }
}
