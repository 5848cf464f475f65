using System.Net;
using System.Net.Sockets;

namespace Portway.Agent.Inspector;

/// <summary>Where the inspector listens when no address was asked for.</summary>
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
