using Xunit;

namespace Portway.Tests.Edge;

public sealed class SocketModeTests
{
    /// <summary>The test host runs with inline socket completions, as the binary does (test.runsettings).</summary>
    [Fact]
    public void TestHost_UsesInlineSocketCompletions_LikeTheBinary() =>
        Assert.Equal("1", Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"));
}
