namespace HarmonyProxy.Memory;

/// <summary>
/// The one bounded store for what the proxy keeps on a client's behalf between requests (the
/// reasoning memory, stored responses): in this process (<see cref="InProcessConversationStore"/>)
/// or on Redis for several replicas (<see cref="RedisConversationStore"/>). Keys carry the
/// client's identity, so one client's entries are never found by another's. Never throws:
/// a store that fails reads as a miss and writes nothing, and says so in metrics and logs.
/// </summary>
internal interface IConversationStore
{
    /// <summary><c>memory</c> or <c>redis</c>, for logs.</summary>
    string Kind { get; }

    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Keeps <paramref name="value"/> under <paramref name="key"/>, counted against <paramref name="owner"/>'s share of the store.</summary>
    ValueTask SetAsync(string owner, string key, byte[] value, CancellationToken cancellationToken);

    /// <summary>Removes the entry; false when there was none.</summary>
    ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken);
}
