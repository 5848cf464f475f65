using System.Net;
using ARSoft.Tools.Net.Dns;
using Portway.Configuration;

namespace Portway.Edge.Acme.Dns01;

/// <summary>Turns the config's host:port into an endpoint, and an endpoint into a client that asks only it.</summary>
internal static class DnsServers
{
    /// <summary>Per query. BIND's own resolver gives up on a server after a few seconds; ten leaves room for TCP fallback.</summary>
    public const int QueryTimeoutMs = 10_000;

    public static async Task<IPEndPoint> ResolveAsync(string hostPort, CancellationToken ct)
    {
        DnsChallengeSection.TryParseHostPort(hostPort, out var host, out var port);
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        IPAddress[] addresses;
        try
        {
            addresses = await System.Net.Dns.GetHostAddressesAsync(host, ct);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new DnsChallengeException($"cannot resolve the DNS server name {host}: {e.Message}");
        }
        if (addresses.Length == 0) throw new DnsChallengeException($"the DNS server name {host} has no address");
        return new IPEndPoint(addresses[0], port);
    }

    /// <summary>UDP first, TCP when the answer is truncated (RFC 7766 §5).</summary>
    public static DnsClient Client(IPEndPoint server) =>
        new([server.Address], [new UdpClientTransport(server.Port), new TcpClientTransport(server.Port)], false, QueryTimeoutMs);
}
