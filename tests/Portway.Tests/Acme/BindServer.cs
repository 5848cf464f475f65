using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;

namespace Portway.Tests.Acme;

/// <summary>
/// A real BIND9 <c>named</c> on a loopback port, primary for <c>tunnels.test.</c>, accepting DNS
/// UPDATEs of TXT records signed with a TSIG key made here (hmac-sha256, 256 random bits, as
/// <c>tsig-keygen</c> makes them). Used directly and as Pebble's resolver, so the CA really reads
/// the dns-01 record from it.
/// </summary>
internal sealed class BindServer : IAsyncDisposable
{
    public const string Zone = "tunnels.test";
    public const string KeyName = "portway-test-key";

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private BindServer(string dir, int port, string secret, Process process)
    {
        Dir = dir;
        Port = port;
        Secret = secret;
        _process = process;
        KeyFile = Path.Combine(dir, "key.conf");
    }

    public string Dir { get; }
    public int Port { get; }
    /// <summary>Base64 TSIG secret.</summary>
    public string Secret { get; }
    /// <summary>The key in named.conf syntax, which <c>nsupdate -k</c> reads too.</summary>
    public string KeyFile { get; }
    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static async Task<BindServer> StartAsync()
    {
        var named = Tools.Require("named", "bind9");
        var dir = TestCertificates.TempDir();
        var port = FreePorts.TcpAndUdp();
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var key = $$"""key "{{KeyName}}" { algorithm hmac-sha256; secret "{{secret}}"; };""";
        await File.WriteAllTextAsync(Path.Combine(dir, "key.conf"), key + "\n");
        // No rndc (controls {}), no recursion, every file inside the temp folder: several instances may run at once.
        await File.WriteAllTextAsync(Path.Combine(dir, "named.conf"), $$"""
            options {
              directory "{{dir}}";
              pid-file "{{dir}}/named.pid";
              session-keyfile "{{dir}}/session.key";
              managed-keys-directory "{{dir}}";
              listen-on port {{port}} { 127.0.0.1; };
              listen-on-v6 { none; };
              recursion no;
              dnssec-validation no;
              allow-transfer { none; };
              notify no;
            };
            controls { };
            include "{{dir}}/key.conf";
            zone "{{Zone}}" {
              type primary;
              file "{{dir}}/{{Zone}}.zone";
              update-policy { grant {{KeyName}} zonesub TXT; };
            };
            """);
        await File.WriteAllTextAsync(Path.Combine(dir, Zone + ".zone"), $"""
            $TTL 60
            @    IN SOA ns1.{Zone}. hostmaster.{Zone}. 1 60 60 600 60
            @    IN NS  ns1.{Zone}.
            ns1  IN A   127.0.0.1
            @    IN A   127.0.0.1
            *    IN A   127.0.0.1

            """);
        var psi = new ProcessStartInfo(named, ["-g", "-n", "1", "-c", Path.Combine(dir, "named.conf")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var process = new Process { StartInfo = psi };
        var server = new BindServer(dir, port, secret, process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Wait.UntilAsync(async () => process.HasExited || (await server.QueryAsync(Zone, RecordType.Soa)).Count > 0,
                TimeSpan.FromSeconds(20), $"named answering on {port}");
            if (process.HasExited) throw new InvalidOperationException($"named exited with {process.ExitCode}:\n{server.Log}");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    /// <summary>The TXT values at <paramref name="name"/>, asked of this server directly.</summary>
    public async Task<List<string>> TxtAsync(string name)
    {
        var values = new List<string>();
        foreach (var r in await QueryAsync(name, RecordType.Txt))
        {
            if (r is TxtRecord t) values.Add(string.Concat(t.TextParts));
        }
        return values;
    }

    private async Task<List<DnsRecordBase>> QueryAsync(string name, RecordType type)
    {
        var client = new DnsClient([IPAddress.Loopback], [new UdpClientTransport(Port)], true, 2000);
        var answer = await client.ResolveAsync(DomainName.Parse(name), type, RecordClass.INet, new DnsQueryOptions { IsRecursionDesired = false });
        return answer?.AnswerRecords ?? [];
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
