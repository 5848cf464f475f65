using System.Text.RegularExpressions;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Edge;

/// <summary>
/// The real binary turns inline socket completions on unless the user set the variable
/// (src/Portway/Program.cs). Seen from outside the process through the runtime's own choice: with
/// inline completions it runs one epoll thread (named ".NET Sockets") per processor, otherwise one
/// per 30 cores, at least one (SocketAsyncEngine.GetEngineCount in dotnet/runtime).
/// DOTNET_PROCESSOR_COUNT=4 makes the two counts differ (4 against 1) on any machine.
/// </summary>
public sealed class SocketModeTests
{
    private const string Inline = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    [Fact]
    public async Task Serve_VariableUnset_CompletionsInlineOnePollThreadPerProcessor() =>
        Assert.Equal(4, await SocketThreadsOfServingBinaryAsync(inline: null));

    [Fact]
    public async Task Serve_VariableZero_UserChoiceWinsOnePollThread() =>
        Assert.Equal(1, await SocketThreadsOfServingBinaryAsync(inline: "0"));

    private static async Task<int> SocketThreadsOfServingBinaryAsync(string? inline)
    {
        Assert.True(OperatingSystem.IsLinux(), "the threads are read from /proc/<pid>/task; this test needs Linux");
        await using var origin = await TestOrigin.StartAsync("a");
        var dir = Directory.CreateTempSubdirectory("portway-sockets-");
        var config = Path.Combine(dir.FullName, "p.yaml");
        await File.WriteAllTextAsync(config, TestEdge.WithTestDefaults(TestEdge.OneRoute(origin.Url)));
        // The test host itself runs with the variable set (test.runsettings), and the child inherits
        // it unless told otherwise; the thread count is also settable, so make sure it is not.
        await using var portway = PortwayProcess.Start(new Dictionary<string, string?>
        {
            [Inline] = inline,
            ["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"] = null,
            ["DOTNET_PROCESSOR_COUNT"] = "4",
        }, "serve", "--config", config);
        await Wait.UntilAsync(() => portway.Stdout.Contains("proxy (listener") || portway.HasExited, TimeSpan.FromSeconds(30));
        Assert.False(portway.HasExited, portway.Stderr);
        var proxy = Regex.Match(portway.Stdout, @"listening on (http://\S+)\s+proxy").Groups[1].Value;
        // A request served means the sockets are registered with the runtime's engines, which are
        // all made at once on first use.
        using var client = new HttpClient();
        Assert.Equal("a", await client.GetStringAsync(proxy + "/"));
        var count = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{portway.Id}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == ".NET Sockets") count++;
            }
            catch (IOException)
            {
                // The thread ended between listing and reading; it was not an engine thread, which live as long as the process.
            }
        }
        return count;
    }
}
