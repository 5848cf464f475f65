using Microsoft.AspNetCore.Http;
using Portway.Http;
using Xunit;

namespace Portway.Tests.Edge;

/// <summary>Unit level: removing the fields a response's Connection names (RFC 9110 §7.6.1), and its cost.</summary>
public sealed class ConnectionOptions_Unit_Tests
{
    [Fact]
    public void RemoveNamedFields_ListsAndLines_EachNamedFieldRemoved()
    {
        using var received = new HttpResponseMessage();
        received.Headers.TryAddWithoutValidation("Connection", ["X-A, ,x-b\t", "close", "X-C"]);
        var forwarded = new HeaderDictionary { ["X-A"] = "1", ["X-B"] = "2", ["X-C"] = "3", ["X-D"] = "4", ["Close"] = "5" };

        ConnectionOptions.RemoveNamedFields(received, forwarded);

        Assert.Equal(["Close", "X-D"], forwarded.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RemoveNamedFields_NoConnection_AllocatesNothing()
    {
        using var received = new HttpResponseMessage();
        received.Headers.TryAddWithoutValidation("X-A", "1");
        var forwarded = new HeaderDictionary { ["X-A"] = "1" };
        ConnectionOptions.RemoveNamedFields(received, forwarded);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) ConnectionOptions.RemoveNamedFields(received, forwarded);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal("1", forwarded["X-A"]);
    }
}
