using System.Net;
using System.Net.Sockets;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// Ports for servers that cannot report the port they bound (Pebble's validator must be told the
/// edge's ports before either starts). Chosen at random below the kernel's ephemeral range
/// (ip_local_port_range starts at 32768 by default), so neither outgoing connections nor other
/// tests' port-0 listeners can be handed the same port between the check and the bind. A port is
/// handed out once per test run: two callers that have not bound theirs yet (a test's edge ports
/// and the Pebble it starts first) would otherwise be able to draw the same free port.
/// </summary>
internal static class FreePorts
{
    private const int Min = 12000;
    private const int Max = 32000;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    public static int Tcp()
    {
        while (true)
        {
            var port = Random.Shared.Next(Min, Max);
            if (!HandedOut.TryAdd(port, 0))
                continue;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>A port free for both TCP and UDP (the mock DNS server listens on UDP).</summary>
    public static int TcpAndUdp()
    {
        while (true)
        {
            var port = Tcp();
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }
}
