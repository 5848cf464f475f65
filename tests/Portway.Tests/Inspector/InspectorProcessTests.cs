using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Inspector;

public sealed partial class InspectorProcessTests
{
    [Fact]
    public async Task Agent_DefaultInspect_LoopbackOnlyFromPort4040AndPrintsWebInterface()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        // Hold 4040 if it is free, so the agent must move on to the next port (ngrok's rule).
        using var holder = TryHold(4040);

        await using var agent = PortwayProcess.Start("http", origin.Port.ToString(), "--edge", edge.Url.ToString());
        await Wait.UntilAsync(() => WebInterface().IsMatch(agent.Stdout) || agent.HasExited, TimeSpan.FromSeconds(30), "the agent prints its Web Interface line");

        var match = WebInterface().Match(agent.Stdout);
        Assert.True(match.Success, agent.Stdout + agent.Stderr);
        var port = int.Parse(match.Groups[1].Value);
        Assert.InRange(port, 4041, 4049);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        Assert.Contains("Portway inspector", await client.GetStringAsync($"http://127.0.0.1:{port}/"));
        foreach (var address in NonLoopbackAddresses())
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            var e = await Assert.ThrowsAsync<SocketException>(async () => await socket.ConnectAsync(new IPEndPoint(address, port)));
            Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        }
    }

    [Fact]
    public async Task Agent_InspectFalse_NoInspector()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");

        await using var agent = PortwayProcess.Start("http", origin.Port.ToString(), "--edge", edge.Url.ToString(), "--inspect", "false");
        await Wait.UntilAsync(() => agent.Stdout.Contains("Forwarding ", StringComparison.Ordinal) || agent.HasExited, TimeSpan.FromSeconds(30), "the agent prints its Forwarding line");

        Assert.Contains("Forwarding ", agent.Stdout);
        Assert.DoesNotContain("Web Interface", agent.Stdout);
    }

    [Fact]
    public async Task Agent_InspectAddressTaken_ExitsSayingSo()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        var taken = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var (exit, _, stderr) = await PortwayProcess.RunAsync("http", origin.Port.ToString(), "--edge", edge.Url.ToString(), "--inspect", $"127.0.0.1:{taken}");

        Assert.Equal(1, exit);
        Assert.Contains($"cannot listen on 127.0.0.1:{taken} for the inspector", stderr);
        Assert.Contains("--inspect false", stderr);
    }

    [Fact]
    public async Task Agent_InspectBarePort_ListensThereOnLoopback()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync("");
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await using var agent = PortwayProcess.Start("http", origin.Port.ToString(), "--edge", edge.Url.ToString(), "--inspect", port.ToString());
        await Wait.UntilAsync(() => agent.Stdout.Contains("Forwarding ", StringComparison.Ordinal) || agent.HasExited, TimeSpan.FromSeconds(30), "the agent prints its Forwarding line");

        Assert.Contains($"Web Interface http://127.0.0.1:{port}", agent.Stdout);
    }

    [GeneratedRegex(@"Web Interface http://127\.0\.0\.1:(\d+)")]
    private static partial Regex WebInterface();

    private static Socket? TryHold(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen();
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null; // someone else holds it, which serves the test just as well
        }
    }

    private static IEnumerable<IPAddress> NonLoopbackAddresses()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up) continue;
            foreach (var a in nic.GetIPProperties().UnicastAddresses)
            {
                if (!IPAddress.IsLoopback(a.Address) && a.Address.AddressFamily == AddressFamily.InterNetwork) yield return a.Address;
            }
        }
    }
}
