using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Portway.Edge.Tunnels;
using Portway.Protocol;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>The edge's standby protocol on a spare link, on a real socket pair with a fake clock.</summary>
public sealed class EdgeLinkTests
{
    [Fact]
    public async Task SilentAgent_SpareClosedWithinTenSeconds()
    {
        var (edgeSide, agentSide) = await SocketPairAsync();
        using var _ = agentSide;
        var time = new FakeTimeProvider();
        var session = new TunnelSession("s1", new string('a', 32), null, IPAddress.Loopback, static (_, _) => { });
        session.ReserveLink();
        var link = new EdgeLink(edgeSide, new DefaultHttpContext(), session, time);
        session.AddSpare(link);
        var standby = link.RunStandbyAsync();

        // The agent side never answers, like a frozen or partitioned agent (no FIN ever arrives).
        // One fake second per poll: between polls the standby loop runs on the real socket.
        var advanced = TimeSpan.Zero;
        await Wait.UntilAsync(() =>
        {
            if (standby.IsCompleted) return true;
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
            return false;
        }, because: "the edge closes a spare whose agent never answers");

        Assert.True(link.IsClosed);
        Assert.False(session.IsOnline);
        var received = new MemoryStream();
        await agentSide.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(5)); // to EOF: the edge closed the link
        Assert.Equal(new[] { LinkProtocol.Ping }, received.ToArray()); // pinged at 5 s, unanswered at 10 s: closed
        Assert.True(advanced <= TimeSpan.FromSeconds(11), $"closed after {advanced} of silence");
    }

    [Fact]
    public async Task AnsweringAgent_SpareStaysAndActivates()
    {
        var (edgeSide, agentSide) = await SocketPairAsync();
        using var _ = agentSide;
        var time = new FakeTimeProvider();
        var session = new TunnelSession("s1", new string('a', 32), null, IPAddress.Loopback, static (_, _) => { });
        session.ReserveLink();
        var link = new EdgeLink(edgeSide, new DefaultHttpContext(), session, time);
        session.AddSpare(link);
        var standby = link.RunStandbyAsync();
        var agent = Portway.Agent.StandbyResponder.WaitForActivationAsync(agentSide, CancellationToken.None);

        // Thirty fake seconds, one per poll, with the loops running on the real socket between polls.
        var ticks = 0;
        await Wait.UntilAsync(() =>
        {
            if (link.IsClosed || ticks == 30) return true;
            time.Advance(TimeSpan.FromSeconds(1));
            ticks++;
            return false;
        }, because: "thirty seconds of answered pings pass");
        Assert.False(link.IsClosed);

        var taken = await session.TakeLinkAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(link, taken);
        Assert.True(await agent.WaitAsync(TimeSpan.FromSeconds(10)));
        await standby.WaitAsync(TimeSpan.FromSeconds(10));
        link.Dispose();
    }

    private static async Task<(Stream Edge, NetworkStream Agent)> SocketPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await listener.AcceptTcpClientAsync();
        return (server.GetStream(), client.GetStream());
    }
}
