using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Portway.Agent.Inspector;

/// <summary>Where the inspector listens: the default address search, and the address actually bound.</summary>
internal static class InspectorAddress
{
    /// <summary>
    /// ngrok's rule: 4040, or when a second agent on the machine holds it, 4041, 4042… Ten tries,
    /// then no inspector (the agent still runs; its screen simply shows no Web Interface line).
    /// </summary>
    public const int Tries = 10;

    public static IPEndPoint? FirstFree(IPEndPoint start)
    {
        for (var port = start.Port; port < start.Port + Tries && port <= IPEndPoint.MaxPort; port++)
        {
            var candidate = new IPEndPoint(start.Address, port);
            if (CanListen(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The port Kestrel bound for <paramref name="inspect"/> (the OS picks one for :0) and the URL to print for it.</summary>
    public static (int Port, Uri Url) Bound(IServer server, IPEndPoint inspect)
    {
        var port = inspect.Port;
        foreach (var address in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var u) && IPAddress.TryParse(u.Host.Trim('[', ']'), out var ip) && ip.Equals(inspect.Address)) port = u.Port;
        }
        // 0.0.0.0 and [::] are where it listens, not where a browser can go.
        var host = inspect.Address.Equals(IPAddress.Any) || inspect.Address.Equals(IPAddress.IPv6Any) ? "localhost"
            : inspect.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{inspect.Address}]" : inspect.Address.ToString();
        return (port, new Uri($"http://{host}:{port}/"));
    }

    private static bool CanListen(IPEndPoint endpoint)
    {
        try
        {
            using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(endpoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
