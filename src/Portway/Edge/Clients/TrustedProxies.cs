using System.Net;
using Portway.Configuration;

namespace Portway.Edge.Clients;

/// <summary>Whether an address is one of forwarded.trusted_proxies: the one check the forwarded headers and the client address share.</summary>
internal static class TrustedProxies
{
    public static bool Contains(ForwardedConfig config, IPAddress address)
    {
        if (config.TrustedProxies.IsEmpty) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var network in config.TrustedProxies)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }
}
