using System.Diagnostics;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tls;

public sealed class TlsVersionTests
{
    [SkippableTheory]
    [InlineData("-tls1", false)]
    [InlineData("-tls1_1", false)]
    [InlineData("-tls1_2", true)]
    [InlineData("-tls1_3", true)]
    public async Task Handshake_OpensslVersion_OnlyTls12AndUpAccepted(string flag, bool accepted)
    {
        var openssl = Tools.Require("openssl", "openssl");
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"], rsa: true);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartWithDefaultAsync(cert, key);
        // SECLEVEL=0 lets the client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses them by default),
        // so a failure here is the server's refusal, not the client's.
        var psi = new ProcessStartInfo(openssl, ["s_client", "-connect", $"127.0.0.1:{edge.HttpsUrl().Port}", "-servername", "a.example.test",
            flag, "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (accepted)
        {
            Assert.Contains("CONNECTION ESTABLISHED", output);
        }
        else
        {
            Assert.DoesNotContain("CONNECTION ESTABLISHED", output);
            Assert.NotEqual(0, process.ExitCode);
        }
    }
}
