using System.Diagnostics;
using System.Globalization;
using System.Text;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tls;

/// <summary>
/// OCSP stapling as the platform does it: a certificate whose AIA names an OCSP responder (a real
/// `openssl ocsp` on loopback, answering from an index the test writes) gets its response stapled
/// to handshakes that ask for it (`openssl s_client -status`).
/// </summary>
public sealed class OcspStaplingTests
{
    [SkippableFact]
    public async Task CertificateWithOcspResponder_ResponseIsStapled()
    {
        var openssl = Tools.Require("openssl", "openssl");
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa("Portway OCSP Test CA");
        var caPem = TestCertificates.WriteCaPem(dir, "ca", ca);
        var caKey = TestCertificates.WriteKeyPem(dir, "ca", ca);
        // openssl ocsp reads its index once, at start: so the port is picked first (free a moment
        // ago), the certificate names it, and the responder starts with the certificate listed.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var leaf = TestCertificates.CreateLeaf(ca, "ocsp.example.test", ["ocsp.example.test"], ocsp: new Uri($"http://127.0.0.1:{port}/"));
        // index.txt: status, expiry (YYMMDDHHMMSSZ), revocation date, serial (hex as OpenSSL
        // writes it: no leading zero bytes), file, subject.
        var serial = leaf.SerialNumber.TrimStart('0');
        if (serial.Length % 2 == 1) serial = "0" + serial;
        var index = Path.Combine(dir, "index.txt");
        await File.WriteAllTextAsync(index, $"V\t{leaf.NotAfter.ToUniversalTime():yyMMddHHmmss}Z\t\t{serial}\tunknown\t/CN=ocsp.example.test\n");

        using var responder = Process.Start(new ProcessStartInfo(openssl,
            ["ocsp", "-index", index, "-port", port.ToString(CultureInfo.InvariantCulture), "-rsigner", caPem, "-rkey", caKey, "-CA", caPem, "-nmin", "60"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var log = new StringBuilder();
        responder.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        responder.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        responder.BeginOutputReadLine();
        responder.BeginErrorReadLine();
        try
        {
            await Wait.UntilAsync(() =>
            {
                lock (log) return log.ToString().Contains("ACCEPT", StringComparison.Ordinal);
            }, because: "openssl ocsp listens");

            var (cert, key) = TestCertificates.WritePem(dir, "leaf", leaf, chain: ca);
            await using var edge = await TlsEdge.StartWithDefaultAsync(cert, key);

            // .NET fetches the response in the background; handshakes staple it once it is there.
            var output = "";
            await Wait.UntilAsync(async () =>
            {
                output = await StatusAsync(openssl, edge.HttpsUrl().Port);
                return output.Contains("OCSP Response Status: successful", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(20), "the edge staples the responder's answer");
            Assert.Contains("Cert Status: good", output);
        }
        finally
        {
            responder.Kill();
            await responder.WaitForExitAsync();
        }
    }

    private static async Task<string> StatusAsync(string openssl, int port)
    {
        using var process = Process.Start(new ProcessStartInfo(openssl,
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "ocsp.example.test", "-status"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

}
