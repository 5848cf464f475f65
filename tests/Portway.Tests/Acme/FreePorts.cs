using System.Net;
using System.Net.Sockets;

namespace Portway.Tests.Acme;

/// <summary>
/// Ports for servers that cannot report the port they bound (Pebble's validator must be told the
/// edge's ports before either starts). The OS picks a free one; the tiny window until it is reused
/// is the price of talking to an external binary.
/// </summary>
internal static class FreePorts
{
    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
