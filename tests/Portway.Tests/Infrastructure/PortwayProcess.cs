using System.Diagnostics;
using System.Text;

namespace Portway.Tests.Infrastructure;

/// <summary>Runs the real `portway` binary (the build output beside the tests) as a child process.</summary>
internal sealed class PortwayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private PortwayProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static PortwayProcess Start(params string[] args) => Start(new Dictionary<string, string?>(), args);

    /// <summary>Starts with the test host's environment changed by <paramref name="environment"/>: a null value removes the variable.</summary>
    public static PortwayProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var info = Command();
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment)
        {
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        }
        return new PortwayProcess(Process.Start(info)!);
    }

    /// <summary>
    /// How to start portway: the build beside the tests (`dotnet portway.dll`), or the binary that
    /// PORTWAY_TEST_BINARY names, so .ci/native-suite runs these same tests against the Native AOT build.
    /// </summary>
    public static ProcessStartInfo Command()
    {
        if (Environment.GetEnvironmentVariable("PORTWAY_TEST_BINARY") is { Length: > 0 } binary) return new ProcessStartInfo(binary);
        var info = new ProcessStartInfo("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "portway.dll"));
        return info;
    }

    /// <summary>Runs to completion and returns the exit code.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        await using var p = Start(args);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (p.ExitCode, p.Stdout, p.Stderr);
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flushes the redirected output
    }

    /// <summary>Sends SIGTERM, as systemd and `docker stop` do.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
