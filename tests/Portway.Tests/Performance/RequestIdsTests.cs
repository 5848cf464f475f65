using Portway.Edge.Observability;
using Xunit;

namespace Portway.Tests.Performance;

public sealed class RequestIdsTests
{
    [Fact]
    public void Next_ManyCalls_UniqueThirtyTwoLowercaseHexDigits()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 10_000; i++)
        {
            var id = RequestIds.Next();
            Assert.Equal(32, id.Length);
            Assert.All(id, c => Assert.True(char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c), $"'{c}' in {id}"));
            Assert.True(seen.Add(id), $"duplicate id {id}");
        }
    }

    [Fact]
    public void Next_ConcurrentCallers_NeverRepeat()
    {
        var ids = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 5_000; i++) Assert.True(ids.TryAdd(RequestIds.Next(), true));
        });
        Assert.Equal(40_000, ids.Count);
    }
}
