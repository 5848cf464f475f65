using System.Net;
using Xunit;

namespace Portway.Tests.Tunnels;

internal static class TunnelAssert
{
    /// <summary>Asserts the status, and on failure shows the page the edge or agent answered with (it says why).</summary>
    public static async Task StatusAsync(HttpStatusCode expected, HttpResponseMessage response)
    {
        if (response.StatusCode == expected) return;
        var body = await response.Content.ReadAsStringAsync();
        Assert.Fail($"expected {(int)expected} {expected}, got {(int)response.StatusCode} {response.StatusCode}: {body}");
    }
}
