using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portway.Configuration;
using Portway.Edge;
using Portway.Edge.Acme;
using Portway.Edge.Settings;
using Portway.Edge.Tls;
using Xunit;

namespace Portway.Tests.Tls;

public sealed class CertificateExpiryTests
{
    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<(LogLevel Level, int Id, string Message)> Entries { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries) Entries.Add((logLevel, eventId.Id, formatter(state, exception)));
        }
    }

    [Fact]
    public void CheckExpiry_FileCertificateNearingAndPastExpiry_WarnsThenErrors()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"], notAfter: DateTimeOffset.UtcNow.AddDays(30));
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        var config = new PortwayConfig
        {
            Tls = new TlsConfig { Sites = [new TlsSiteConfig { Hosts = ["a.example.test"], Source = CertificateSource.PemFiles, CertFile = cert, KeyFile = key }] },
        };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = new ListLogger<TlsManager>();
        using var tls = new TlsManager(new EdgeState(config), new CertificateStore(), new AcmeChallengeStore(), time, logger);
        Assert.Contains(logger.Entries, e => e.Id == 400 && e.Message.Contains(cert));

        tls.CheckExpiry();
        Assert.DoesNotContain(logger.Entries, e => e.Id is 404 or 405);

        time.Advance(TimeSpan.FromDays(20));
        tls.CheckExpiry();
        Assert.Contains(logger.Entries, e => e.Id == 404 && e.Level == LogLevel.Warning && e.Message.Contains("a.example.test") && e.Message.Contains(cert));

        time.Advance(TimeSpan.FromDays(11));
        tls.CheckExpiry();
        Assert.Contains(logger.Entries, e => e.Id == 405 && e.Level == LogLevel.Error && e.Message.Contains("expired"));
    }

    [Fact]
    public async Task Metrics_ServedCertificate_ExpiryGaugeScraped()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["gauge.expiry.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [gauge.expiry.example.test]
                  cert: {cert}
                  key: {key}
            """);
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(edge.AdminUrl, "/metrics"));
        var line = text.Split('\n').First(l => l.StartsWith("portway_tls_certificate_expiry_seconds{", StringComparison.Ordinal) && l.Contains("gauge.expiry.example.test"));
        Assert.Contains("hosts=\"gauge.expiry.example.test\"", line);
        var seconds = double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, TimeSpan.FromDays(29).TotalSeconds, TimeSpan.FromDays(31).TotalSeconds);
    }
}
