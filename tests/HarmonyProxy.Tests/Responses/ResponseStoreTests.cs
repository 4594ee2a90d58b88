using HarmonyProxy.Configuration;
using HarmonyProxy.Responses;
using HarmonyProxy.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Responses;

public sealed class ResponseStoreTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void OldestGoFirst_WhenEntriesOrBytesRunOut()
    {
        var store = Store(new ResponsesSettings { StoreMaxEntries = 2, StoreMaxBytes = 10_000 });
        store.Put(Response("a", 100));
        store.Put(Response("b", 100));
        Assert.NotNull(store.Get("a", "me")); // a is now the most recently used
        store.Put(Response("c", 100));

        Assert.NotNull(store.Get("a", "me"));
        Assert.Null(store.Get("b", "me"));
        Assert.NotNull(store.Get("c", "me"));

        var bytes = Store(new ResponsesSettings { StoreMaxEntries = 100, StoreMaxBytes = 3_000 });
        bytes.Put(Response("a", 1_000));
        bytes.Put(Response("b", 1_000));
        bytes.Put(Response("c", 1_000));
        Assert.Equal(2, bytes.Count);
        Assert.Null(bytes.Get("a", "me"));
    }

    [Fact]
    public void TooOld_IsGone()
    {
        var store = Store(new ResponsesSettings { StoreMaxAgeMinutes = 10 });
        store.Put(Response("a", 10));

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(store.Get("a", "me"));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(store.Get("a", "me"));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void AnotherClient_NeitherReadsNorDeletes()
    {
        var store = Store(new ResponsesSettings());
        store.Put(Response("a", 10));

        Assert.Null(store.Get("a", "someone else"));
        Assert.False(store.Delete("a", "someone else"));
        Assert.True(store.Delete("a", "me"));
        Assert.Null(store.Get("a", "me"));
    }

    private ResponseStore Store(ResponsesSettings settings) =>
        new(new StaticOptionsMonitor(new HarmonyProxyOptions { Responses = settings }), _time);

    private static StoredResponse Response(string id, int bytes) => new(id, "me", new byte[bytes], []);
}
