using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Portway.Tests.Inspector;

/// <summary>
/// A headless Chromium (fresh profile) showing one page, driven over the DevTools protocol: the
/// test reads the live DOM with Runtime.evaluate. (--dump-dom cannot serve here: it prints at the
/// load event, before the page's fetch, and --virtual-time-budget never ends while the page's
/// event stream is open.)
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, DirectoryInfo profile)
    {
        _process = process;
        _profile = profile;
    }

    public static async Task<HeadlessChromium> OpenAsync(string chromium, Uri url)
    {
        var profile = Directory.CreateTempSubdirectory("portway-chromium-");
        var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={profile.FullName}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url.ToString(),
        }) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            await browser.ConnectAsync(url);
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
        return browser;
    }

    private async Task ConnectAsync(Uri url)
    {
        // Chromium writes the port it chose to DevToolsActivePort in the profile.
        var portFile = Path.Combine(_profile.FullName, "DevToolsActivePort");
        string? port = null;
        await Infrastructure.Wait.UntilAsync(() =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"chromium exited with {_process.ExitCode}");
            try
            {
                port = File.Exists(portFile) ? File.ReadAllLines(portFile).FirstOrDefault() : null;
            }
            catch (IOException)
            {
                port = null;
            }
            return !string.IsNullOrEmpty(port);
        }, TimeSpan.FromSeconds(60), "chromium opens its DevTools port");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        string? target = null;
        await Infrastructure.Wait.UntilAsync(async () =>
        {
            var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list")).RootElement;
            foreach (var t in targets.EnumerateArray())
            {
                if (t.GetProperty("type").GetString() == "page" && t.GetProperty("url").GetString()!.StartsWith(url.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal))
                    target = t.GetProperty("webSocketDebuggerUrl").GetString();
            }
            return target is not null;
        }, TimeSpan.FromSeconds(30), "chromium lists the page");
        await _socket.ConnectAsync(new Uri(target!), CancellationToken.None);
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its string value.</summary>
    public async Task<string> EvaluateAsync(string expression)
    {
        var value = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true });
        var result = value.GetProperty("result");
        return result.TryGetProperty("value", out var v) ? v.ToString() : "";
    }

    /// <summary>Loads <paramref name="url"/> in the page, as typing it in the address bar does (Page.navigate).</summary>
    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new { url = url.ToString() });

    /// <summary>
    /// Like <see cref="EvaluateAsync"/>, but "" while the page is between documents (a redirect
    /// or a form post in flight has no context to evaluate in yet): for waits across navigations.
    /// </summary>
    public async Task<string> TryEvaluateAsync(string expression)
    {
        try
        {
            return await EvaluateAsync(expression);
        }
        catch (InvalidOperationException)
        {
            return "";
        }
    }

    /// <summary>Sends one DevTools command and returns its result.</summary>
    public async Task<JsonElement> SendAsync(string method, object parameters)
    {
        var id = ++_nextId;
        var request = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.SendAsync(request, WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, timeout.Token);
                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            var reply = JsonDocument.Parse(message.ToArray()).RootElement;
            if (!reply.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id) continue;
            if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException("DevTools: " + error);
            return reply.GetProperty("result").Clone();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Chromium's last writes can race the delete; the temp directory is harmless.
        }
    }
}
