using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;

namespace Portway.Edge.Acme.Dns01;

/// <summary>
/// dns-01 through the operator's program, the escape hatch lego ("exec") and acme.sh (dns hooks)
/// offer for any DNS provider's API: <c>COMMAND present FQDN VALUE</c>, later <c>COMMAND cleanup FQDN VALUE</c>
/// (FQDN with its trailing dot, as lego passes it). Exit 0 is success; anything else fails the
/// challenge with the program's stderr in the message; a run longer than <c>timeout</c> is killed.
/// </summary>
internal sealed partial class ExecDnsProvider(DnsChallengeConfig config, ILogger logger) : IDnsChallengeProvider
{
    /// <summary>Enough of stderr for the reason, short enough for one log line and the status page.</summary>
    private const int MaxStderr = 500;

    public Task<IPEndPoint?> CheckServerAsync(CancellationToken ct) => Task.FromResult<IPEndPoint?>(null);

    public Task PresentAsync(string recordName, string value, CancellationToken ct) => RunAsync("present", recordName, value, ct);

    public Task CleanupAsync(string recordName, string value, CancellationToken ct) => RunAsync("cleanup", recordName, value, ct);

    private async Task RunAsync(string action, string recordName, string value, CancellationToken ct)
    {
        var command = config.Command!;
        var psi = new ProcessStartInfo(command)
        {
            ArgumentList = { action, recordName, value },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DnsChallengeException($"cannot run tls.acme.dns.command {command}: {e.Message} (is it there and executable?)");
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(config.Timeout);
        string output, errors;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            // A child the hook left running may hold the pipes open: the timeout covers reading them too.
            output = (await stdout.WaitAsync(timeout.Token)).Trim();
            errors = Trim(await stderr.WaitAsync(timeout.Token));
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            throw new DnsChallengeException($"{command} {action} {recordName} did not finish within {ConfigValues.FormatDuration(config.Timeout)} (tls.acme.dns.timeout) and was killed");
        }
        if (output.Length > 0) LogOutput(action, recordName, Trim(output));
        if (process.ExitCode != 0)
            throw new DnsChallengeException($"{command} {action} {recordName} exited with code {process.ExitCode}: {(errors.Length > 0 ? errors : "(nothing on stderr)")}");
    }

    private static string Trim(string text)
    {
        text = text.Trim().ReplaceLineEndings(" | ");
        return text.Length > MaxStderr ? text[..MaxStderr] + "…" : text;
    }

    [LoggerMessage(EventId = EventIds.AcmeDnsExecOutput, Level = LogLevel.Debug, Message = "ACME: dns-01 hook {Action} {Name} printed: {Output}")]
    private partial void LogOutput(string action, string name, string output);
}
