using System.Net;
using System.Net.Sockets;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

public sealed class TcpTunnelTests
{
    [Fact]
    public async Task TcpEcho_10MB_RoundTripsIntact()
    {
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        var server = Task.Run(async () =>
        {
            using var conn = await echo.AcceptTcpClientAsync();
            var s = conn.GetStream();
            await s.CopyToAsync(s); // echo until the visitor half-closes
            conn.Client.Shutdown(SocketShutdown.Send);
        });
        await using var edge = await TestEdge.StartAsync("tunnels:\n  tcp_ports: 0\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Tcp(((IPEndPoint)echo.LocalEndpoint).Port));
        var url = agent.Url;
        Assert.Equal("tcp", url.Scheme);

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, url.Port);
        var stream = client.GetStream();
        const long length = 10L * 1024 * 1024;
        var send = Task.Run(async () =>
        {
            var sha = await Payload.WriteAsync(stream, length, seed: 7);
            client.Client.Shutdown(SocketShutdown.Send);
            return sha;
        });
        var (received, receivedSha) = await Payload.HashAsync(stream).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(length, received);
        Assert.Equal(await send, receivedSha);
        await server.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TcpTunnel_ByteOrderedConversation_BothDirections()
    {
        using var local = new TcpListener(IPAddress.Loopback, 0);
        local.Start();
        var server = Task.Run(async () =>
        {
            using var conn = await local.AcceptTcpClientAsync();
            var s = conn.GetStream();
            // Speaks first, like ssh and most databases do.
            await s.WriteAsync("SSH-2.0-test\r\n"u8.ToArray());
            var buffer = new byte[5];
            await s.ReadExactlyAsync(buffer);
            await s.WriteAsync(buffer);
        });
        await using var edge = await TestEdge.StartAsync("tunnels:\n  tcp_ports: 0\n");
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Tcp(((IPEndPoint)local.LocalEndpoint).Port));

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, agent.Url.Port);
        var stream = client.GetStream();
        var banner = new byte[14];
        await stream.ReadExactlyAsync(banner).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("SSH-2.0-test\r\n", System.Text.Encoding.ASCII.GetString(banner));
        await stream.WriteAsync("hello"u8.ToArray());
        var reply = new byte[5];
        await stream.ReadExactlyAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(reply));
        await server;
    }
}
