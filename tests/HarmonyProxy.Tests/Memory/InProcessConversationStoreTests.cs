using HarmonyProxy.Memory;
using HarmonyProxy.Responses;
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
        await store.SetAsync("a", new byte[100], default);
        await store.SetAsync("b", new byte[100], default);
        Assert.NotNull(await store.GetAsync("a", default)); // a is now the most recently used
        await store.SetAsync("c", new byte[100], default);

        Assert.NotNull(await store.GetAsync("a", default));
        Assert.Null(await store.GetAsync("b", default));
        Assert.NotNull(await store.GetAsync("c", default));

        var bytes = Store(new ReasoningMemoryOptions { MaxEntries = 100, MaxBytes = 3_000 });
        await bytes.SetAsync("a", new byte[1_000], default);
        await bytes.SetAsync("b", new byte[1_000], default);
        await bytes.SetAsync("c", new byte[1_000], default);
        Assert.Equal(2, bytes.Count);
        Assert.Null(await bytes.GetAsync("a", default));
    }

    [Fact]
    public async Task TooOld_IsGone()
    {
        var store = Store(new ReasoningMemoryOptions { MaxAgeMinutes = 10 });
        await store.SetAsync("a", new byte[10], default);

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

    private InProcessConversationStore Store(ReasoningMemoryOptions settings) =>
        new(new StaticOptionsMonitor<ReasoningMemoryOptions>(settings), _time);
}
