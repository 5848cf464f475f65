using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Edge;

public sealed class OperationsTests
{
    [Fact]
    [CoversKey("access_log.target")]
    public async Task AccessLog_File_OneJsonLinePerRequest()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        var log = Path.Combine(Path.GetTempPath(), $"portway-access-{Guid.NewGuid():N}.log");
        await using (var edge = await TestEdge.StartAsync($"""
            access_log:
              target: {log}
            {TestEdge.OneRoute(origin.Url)}
            """))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/hello?x=1");
            request.Headers.Add("X-Request-Id", "rid-42");
            Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(request)).StatusCode);
            await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("rid-42"));
        }
        var line = File.ReadAllLines(log).Single(l => l.Contains("rid-42"));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal("/hello", root.GetProperty("path").GetString());
        Assert.Equal("?x=1", root.GetProperty("query").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal(1, root.GetProperty("bytes").GetInt64());
        Assert.Equal("web", root.GetProperty("route").GetString());
        Assert.Equal(origin.Url.ToString(), root.GetProperty("destination").GetString());
        Assert.Equal("127.0.0.1", root.GetProperty("client").GetString());
        Assert.True(root.GetProperty("duration_ms").GetDouble() >= 0);
        Assert.True(root.TryGetProperty("time", out _));
        Assert.True(root.TryGetProperty("host", out _));
    }

    [Fact]
    public async Task Metrics_AdminListener_CountsRequestsByRouteAndStatus()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: metrics-web
                cluster: metrics-app
            clusters:
              - id: metrics-app
                destinations: [{origin.Url}]
            """);
        // Meters are process-wide and other tests' edges run in parallel: ids unique to this test.
        for (var i = 0; i < 3; i++) await edge.Client.GetStringAsync("/");
        using var admin = new HttpClient { BaseAddress = edge.AdminUrl };
        string text = "";
        await Wait.UntilAsync(async () =>
        {
            text = await admin.GetStringAsync("/metrics");
            return text.Contains("portway_requests_total{", StringComparison.Ordinal);
        });
        var line = text.Split('\n').First(l => l.StartsWith("portway_requests_total{", StringComparison.Ordinal) && l.Contains("route=\"metrics-web\""));
        Assert.Contains("cluster=\"metrics-app\"", line);
        Assert.Contains("code=\"200\"", line);
        var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
        Assert.Equal("3", value);
        Assert.Contains("portway_request_duration_seconds_bucket", text);
        Assert.Contains("kestrel_active_connections", text);
        Assert.Equal("ok\n", await admin.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Metrics_Resource_ServiceNamePortwayAndTheVersionTheCommandPrints()
    {
        var (exit, stdout, _) = await PortwayProcess.RunAsync("version");
        Assert.Equal(0, exit);
        var version = Regex.Match(stdout, @"^portway (\S+) ").Groups[1].Value;
        Assert.NotEmpty(version);
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(TestEdge.OneRoute(origin.Url));
        await edge.Client.GetStringAsync("/");
        using var admin = new HttpClient { BaseAddress = edge.AdminUrl };

        var text = await admin.GetStringAsync("/metrics");

        // The exporter writes the resource as the target_info series (OpenTelemetry's Prometheus compatibility spec).
        var target = text.Split('\n').FirstOrDefault(l => l.StartsWith("target_info{", StringComparison.Ordinal));
        Assert.True(target is not null, "no target_info in /metrics:\n" + text);
        Assert.Contains("service_name=\"portway\"", target);
        Assert.Contains($"service_version=\"{version}\"", target);
        Assert.DoesNotContain("unknown_service", text);
    }

    [Fact]
    public async Task Metrics_NotServedOnProxyListener()
    {
        await using var edge = await TestEdge.StartAsync("");
        var response = await edge.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("portway_requests_total", await response.Content.ReadAsStringAsync());
    }
}
