using System.Diagnostics;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Tls;

public sealed class CipherPolicyTests
{
    [SkippableTheory]
    [InlineData("system", "ECDHE-RSA-AES128-GCM-SHA256", true)]
    // The platform list still has CBC suites, mozilla_intermediate does not: this row and its mozilla twin show the key is read.
    [InlineData("system", "ECDHE-RSA-AES128-SHA256", true)]
    [InlineData("system", "ECDHE-RSA-AES128-SHA", false)]
    [InlineData("system", "AES128-GCM-SHA256", false)]
    [InlineData("system", "DHE-RSA-AES128-GCM-SHA256", false)]
    [InlineData("mozilla_intermediate", "ECDHE-RSA-AES128-GCM-SHA256", true)]
    [InlineData("mozilla_intermediate", "ECDHE-RSA-CHACHA20-POLY1305", true)]
    [InlineData("mozilla_intermediate", "ECDHE-RSA-AES128-SHA256", false)]
    [InlineData("mozilla_intermediate", "ECDHE-RSA-AES128-SHA", false)]
    [CoversKey("tls.ciphers")]
    public async Task Handshake_Tls12Cipher_AcceptedOnlyIfInPolicy(string policy, string cipher, bool accepted)
    {
        var openssl = Tools.Require("openssl", "openssl");
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"], rsa: true);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              ciphers: {policy}
              sites:
                - default: true
                  cert: {cert}
                  key: {key}
            """);
        var psi = new ProcessStartInfo(openssl, ["s_client", "-connect", $"127.0.0.1:{edge.HttpsUrl().Port}", "-servername", "a.example.test",
            "-tls1_2", "-cipher", cipher])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(accepted, output.Contains($"Cipher is {cipher}", StringComparison.Ordinal));
    }
}
