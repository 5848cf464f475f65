using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;

namespace Portway.Tests.Acme;

/// <summary>
/// Pebble (Let's Encrypt's test CA) on loopback, with pebble-challtestsrv as its DNS server so
/// every name resolves to 127.0.0.1, and its validator pointed at the edge's http and https ports.
/// The CA's own HTTPS certificate is made here and trusted by the test only (written to CaRootFile).
/// </summary>
internal sealed class PebbleServer : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly StringBuilder _log = new();
    private string? _baseConfig;

    private PebbleServer(string dir) => Dir = dir;

    public string Dir { get; }
    public Uri Directory { get; private set; } = null!;
    public string CaRootFile { get; private set; } = null!;
    public int ManagementPort { get; private set; }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <param name="validitySeconds">certificateValidityPeriod: short-lived certificates for renewal tests.</param>
    /// <param name="env">PEBBLE_* variables, e.g. PEBBLE_WFE_NONCEREJECT=50, PEBBLE_VA_SLEEPTIME=3.</param>
    /// <param name="baseConfig">A Pebble config file (e.g. one of the package's examples) whose settings are kept, except where it listens and its certificate.</param>
    /// <param name="dnsServer">The validator's resolver instead of challtestsrv (a real BIND for dns-01).</param>
    public static async Task<PebbleServer> StartAsync(int edgeHttpPort, int edgeHttpsPort, long validitySeconds = 0, IDictionary<string, string>? env = null,
        string? baseConfig = null, IPEndPoint? dnsServer = null)
    {
        var pebble = Tools.Require("pebble", "pebble");
        var challtestsrv = Tools.Require("pebble-challtestsrv", "pebble");
        var server = new PebbleServer(TestCertificates.TempDir());
        server._baseConfig = baseConfig;
        try
        {
            await server.StartCoreAsync(pebble, challtestsrv, edgeHttpPort, edgeHttpsPort, validitySeconds, env, dnsServer);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private async Task StartCoreAsync(string pebble, string challtestsrv, int httpPort, int httpsPort, long validity, IDictionary<string, string>? env,
        IPEndPoint? dnsServer)
    {
        using var ca = TestCertificates.CreateCa("Pebble WFE test root");
        using var wfe = CreateWfeCertificate(ca);
        CaRootFile = TestCertificates.WriteCaPem(Dir, "wfe-root", ca);
        var (certFile, keyFile) = TestCertificates.WritePem(Dir, "wfe", wfe);

        var wfePort = FreePorts.Tcp();
        ManagementPort = FreePorts.Tcp();
        if (dnsServer is null)
        {
            var dnsPort = FreePorts.TcpAndUdp();
            var challMgmt = FreePorts.Tcp();
            Start(challtestsrv, ["-dns01", $"127.0.0.1:{dnsPort}", "-http01", "", "-https01", "", "-tlsalpn01", "",
                "-management", $"127.0.0.1:{challMgmt}", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""], null);
            dnsServer = new IPEndPoint(IPAddress.Loopback, dnsPort);
        }

        var config = Path.Combine(Dir, "pebble-config.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "pebble": {
                "listenAddress": "127.0.0.1:{{wfePort}}",
                "managementListenAddress": "127.0.0.1:{{ManagementPort}}",
                "certificate": "{{certFile}}",
                "privateKey": "{{keyFile}}",
                "httpPort": {{httpPort}},
                "tlsPort": {{httpsPort}},
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
                "certificateValidityPeriod": {{validity}}
              }
            }
            """);
        if (_baseConfig is not null) await MergeBaseConfigAsync(config, _baseConfig);
        var variables = new Dictionary<string, string> { ["PEBBLE_VA_NOSLEEP"] = "1", ["PEBBLE_WFE_NONCEREJECT"] = "0" };
        if (env is not null)
        {
            foreach (var (k, v) in env) variables[k] = v;
        }
        if (variables.ContainsKey("PEBBLE_VA_SLEEPTIME")) variables.Remove("PEBBLE_VA_NOSLEEP");
        Start(pebble, ["-config", config, "-dnsserver", dnsServer.ToString()], variables);
        Directory = new Uri($"https://127.0.0.1:{wfePort}/dir");
        await Wait.UntilAsync(() => Listening(wfePort), TimeSpan.FromSeconds(20), $"pebble listening on {wfePort}; log:\n{Log}");
    }

    /// <summary>Where Pebble listens and which certificate it uses stay the test's; every other setting of the base file wins.</summary>
    private static async Task MergeBaseConfigAsync(string configFile, string baseFile)
    {
        string[] placement = ["listenAddress", "managementListenAddress", "certificate", "privateKey", "httpPort", "tlsPort"];
        var merged = JsonNode.Parse(await File.ReadAllTextAsync(configFile))!.AsObject();
        var ours = merged["pebble"]!.AsObject();
        var theirs = JsonNode.Parse(await File.ReadAllTextAsync(baseFile))!["pebble"]!.AsObject();
        foreach (var (key, value) in theirs)
        {
            if (Array.IndexOf(placement, key) < 0) ours[key] = value?.DeepClone();
        }
        await File.WriteAllTextAsync(configFile, merged.ToJsonString());
    }

    private static X509Certificate2 CreateWfeCertificate(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var caKey = ca.GetECDsaPrivateKey()!;
        using var cert = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
        return cert.CopyWithPrivateKey(key);
    }

    private static async Task<bool> Listening(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Start(string file, string[] args, IDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (env is not null)
        {
            foreach (var (k, v) in env) psi.Environment[k] = v;
        }
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    /// <summary>Pebble's root for the certificates it issues (GET /roots/0 on the management port).</summary>
    public async Task<X509Certificate2> IssuingRootAsync()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = static (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var pem = await http.GetStringAsync($"https://127.0.0.1:{ManagementPort}/roots/0");
        return X509Certificate2.CreateFromPem(pem);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) p.Kill();
                await p.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        try
        {
            System.IO.Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
