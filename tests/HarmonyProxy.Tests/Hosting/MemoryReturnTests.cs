using HarmonyProxy.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Hosting;

/// <summary>After large bodies, one collection that gives memory back: after a quiet second, and not more often than the interval.</summary>
public sealed class MemoryReturnTests
{
    [Fact]
    public async Task ABurstOfLargeBodies_CostsOneCollection_AndTheNextWaitsForTheInterval()
    {
        var time = new FakeTimeProvider();
        var memory = new MemoryReturn(time);

        memory.AfterLargeBody();
        var first = memory.Pending;
        memory.AfterLargeBody();
        memory.AfterLargeBody();
        Assert.Same(first, memory.Pending);
        Assert.False(first.IsCompleted);
        time.Advance(MemoryReturn.QuietDelay);
        await first;
        Assert.Equal(1, memory.Collections);

        memory.AfterLargeBody();
        var second = memory.Pending;
        time.Advance(MemoryReturn.QuietDelay);
        Assert.False(second.IsCompleted);
        time.Advance(MemoryReturn.MinimumInterval - MemoryReturn.QuietDelay);
        await second;
        Assert.Equal(2, memory.Collections);
    }
}
