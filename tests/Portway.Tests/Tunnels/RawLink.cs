using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portway.Tests.Tunnels;

/// <summary>One link opened with the HTTP/1.1 upgrade of protocol.md message 1, held open until disposed.</summary>
internal sealed class RawLink : IAsyncDisposable
{
    private readonly Socket _socket;

    private RawLink(Socket socket, int status, string? name)
    {
        _socket = socket;
        Status = status;
        GrantedName = name;
    }

    public int Status { get; }
    public string? GrantedName { get; }

    public static async Task<RawLink> OpenAsync(Uri edge, string token, string tunnel)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, edge.Port);
        var agent = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var request = $"GET /_portway/link HTTP/1.1\r\nHost: 127.0.0.1:{edge.Port}\r\nConnection: Upgrade\r\nUpgrade: portway-link/1\r\n"
            + $"Authorization: Bearer {token}\r\nPortway-Agent: {agent}\r\nPortway-Tunnel: {tunnel}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        var buffer = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(buffer) == 0) break;
            head.Append((char)buffer[0]);
        }
        var lines = head.ToString().Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        string? name = null;
        foreach (var line in lines)
        {
            if (!line.StartsWith("Portway-Grant:", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var part in line["Portway-Grant:".Length..].Split(';'))
            {
                var p = part.Trim();
                if (p.StartsWith("name=", StringComparison.Ordinal)) name = p["name=".Length..];
            }
        }
        return new RawLink(socket, status, name);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
