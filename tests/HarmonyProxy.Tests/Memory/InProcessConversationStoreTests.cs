using HarmonyProxy.Diagnostics;
using HarmonyProxy.Memory;
using HarmonyProxy.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Memory;

public sealed class InProcessConversationStoreTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task LeastRecentlyUsedGoFirst_WhenEntriesOrBytesRunOut()
    {
        var store = Store(new ReasoningMemoryOptions { MaxEntries = 2, MaxBytes = 10_000 });
        await store.SetAsync("me", "a", new byte[100], default);
        await store.SetAsync("me", "b", new byte[100], default);
        Assert.NotNull(await store.GetAsync("a", default)); // a is now the most recently used
        await store.SetAsync("me", "c", new byte[100], default);

        Assert.NotNull(await store.GetAsync("a", default));
        Assert.Null(await store.GetAsync("b", default));
        Assert.NotNull(await store.GetAsync("c", default));

        var bytes = Store(new ReasoningMemoryOptions { MaxEntries = 100, MaxBytes = 3_000 });
        await bytes.SetAsync("me", "a", new byte[1_000], default);
        await bytes.SetAsync("me", "b", new byte[1_000], default);
        await bytes.SetAsync("me", "c", new byte[1_000], default);
        Assert.Equal(2, bytes.Count);
        Assert.Null(await bytes.GetAsync("a", default));
    }

    [Fact]
    public async Task TooOld_IsGone()
    {
        var store = Store(new ReasoningMemoryOptions { MaxAge = TimeSpan.FromMinutes(10) });
        await store.SetAsync("me", "a", new byte[10], default);

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await store.GetAsync("a", default));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await store.GetAsync("a", default));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task StoredResponses_AreFoundOnlyByTheirClient()
    {
        var responses = new ResponseStore(Store(new ReasoningMemoryOptions()));
        await responses.PutAsync("me", "resp_1", new StoredResponse("""{"id":"resp_1"}"""u8.ToArray(), "[]"u8.ToArray()), default);

        Assert.Null(await responses.GetAsync("someone else", "resp_1", default));
        Assert.False(await responses.DeleteAsync("someone else", "resp_1", default));
        Assert.Equal("""{"id":"resp_1"}""", System.Text.Encoding.UTF8.GetString((await responses.GetAsync("me", "resp_1", default))!.Response));
        Assert.True(await responses.DeleteAsync("me", "resp_1", default));
        Assert.Null(await responses.GetAsync("me", "resp_1", default));
    }

    [Fact]
    public async Task AClientOverItsShare_GivesUpItsOwnEntries_NeverAnothersOrTheLargeOne()
    {
        var metrics = new ProxyMetrics(Prometheus.Metrics.NewCustomRegistry());
        var store = Store(new ReasoningMemoryOptions { MaxEntries = 100, MaxBytes = 10_000, MaxBytesPerClient = 2_500, MaxEntriesPerClient = 3 }, metrics);
        await store.SetAsync("bob", "bob-1", new byte[1_000], default);
        for (var i = 0; i < 5; i++)
        {
            await store.SetAsync("alice", $"alice-{i}", new byte[1_000], default);
        }

        await store.SetAsync("alice", "alice-huge", new byte[3_000], default);
        for (var i = 0; i < 4; i++)
        {
            await store.SetAsync("carol", $"carol-{i}", new byte[10], default);
        }

        Assert.NotNull(await store.GetAsync("bob-1", default));
        Assert.Null(await store.GetAsync("alice-huge", default));
        var alice = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => store.GetAsync($"alice-{i}", default).AsTask()));
        Assert.Equal([false, false, false, true, true], alice.Select(entry => entry is not null));
        Assert.True(store.BytesOf("alice") <= 2_500);
        Assert.Null(await store.GetAsync("carol-0", default));
        var carol = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => store.GetAsync($"carol-{i}", default).AsTask()));
        Assert.All(carol, Assert.NotNull);
        Assert.Equal(4, metrics.StoreEvictions.WithLabels("client_quota").Value);
        Assert.Equal(1, metrics.StoreEvictions.WithLabels("too_large").Value);
        Assert.Equal(0, metrics.StoreEvictions.WithLabels("global_bound").Value);
    }

    private InProcessConversationStore Store(ReasoningMemoryOptions settings, ProxyMetrics? metrics = null) =>
        new(new StaticOptionsMonitor<ReasoningMemoryOptions>(settings), _time, metrics ?? new ProxyMetrics(Prometheus.Metrics.NewCustomRegistry()));
}
