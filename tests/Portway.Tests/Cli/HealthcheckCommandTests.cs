using System.Net;
using System.Net.Sockets;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Cli;

/// <summary>`portway healthcheck`: the container image's HEALTHCHECK (the image has no curl).</summary>
public sealed class HealthcheckCommandTests
{
    [Fact]
    public async Task Healthcheck_RunningEdge_Exit0()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(TestEdge.OneRoute(origin.Url));
        var (exit, stdout, stderr) = await PortwayProcess.RunAsync("healthcheck", new Uri(edge.AdminUrl, "/healthz").ToString());
        Assert.True(exit == 0, stderr);
        Assert.Contains("200 OK", stdout);
    }

    [Fact]
    public async Task Healthcheck_NothingListening_Exit1SaysWhatToCheck()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var (exit, _, stderr) = await PortwayProcess.RunAsync("healthcheck", $"http://127.0.0.1:{port}/healthz", "--timeout", "2s");
        Assert.Equal(1, exit);
        Assert.Contains($"http://127.0.0.1:{port}/healthz", stderr);
        Assert.Contains("is `portway serve` running", stderr);
    }

    [Fact]
    public async Task Healthcheck_Not2xx_Exit1WithTheStatus()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(TestEdge.OneRoute(origin.Url));
        // The admin listener answers 404 for anything but its own paths.
        var (exit, _, stderr) = await PortwayProcess.RunAsync("healthcheck", new Uri(edge.AdminUrl, "/nothing-here").ToString());
        Assert.Equal(1, exit);
        Assert.Contains("answered 404", stderr);
    }

    [Fact]
    public async Task Healthcheck_NotAnHttpUrl_Exit1()
    {
        var (exit, _, stderr) = await PortwayProcess.RunAsync("healthcheck", "ftp://127.0.0.1/healthz");
        Assert.Equal(1, exit);
        Assert.Contains("not an http:// or https:// URL", stderr);
    }
}
