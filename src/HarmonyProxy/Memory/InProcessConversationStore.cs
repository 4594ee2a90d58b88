using HarmonyProxy.Diagnostics;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Memory;

/// <summary>
/// The store in this process, bounded in count, bytes and age (<c>ReasoningMemory:MaxEntries</c>,
/// <c>MaxBytes</c>, <c>MaxAge</c>), and per client inside those bounds
/// (<c>MaxEntriesPerClient</c>, <c>MaxBytesPerClient</c>): a client over its share gives up its own
/// least recently used entries, so one client's large inputs never evict another's stored
/// responses; an entry larger than a client's share is not kept at all. Beyond that, the least
/// recently used entries go first, whoever they belong to.
/// </summary>
internal sealed class InProcessConversationStore(
    IOptionsMonitor<ReasoningMemoryOptions> options,
    TimeProvider time,
    ProxyMetrics metrics) : IConversationStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    public string Kind => "memory";

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The bytes one client's entries hold now (0 for a client with none).</summary>
    public long BytesOf(string owner)
    {
        lock (_gate)
        {
            return _clients.TryGetValue(owner, out var client) ? client.Bytes : 0;
        }
    }

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var maxAge = options.CurrentValue.MaxAge;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                return ValueTask.FromResult<byte[]?>(null);
            }

            if (time.GetElapsedTime(entry.Stored) > maxAge)
            {
                RemoveLocked(entry);
                return ValueTask.FromResult<byte[]?>(null);
            }

            _recency.Remove(entry.Recent);
            _recency.AddFirst(entry.Recent);
            entry.Client.Recency.Remove(entry.RecentInClient);
            entry.Client.Recency.AddFirst(entry.RecentInClient);
            return ValueTask.FromResult<byte[]?>(entry.Value);
        }
    }

    public ValueTask SetAsync(string owner, string key, byte[] value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var limits = options.CurrentValue;
        var clientBytes = Math.Min(limits.MaxBytesPerClient, limits.MaxBytes);
        var clientEntries = Math.Min(limits.MaxEntriesPerClient, limits.MaxEntries);
        if (Entry.Cost(key, value) > clientBytes)
        {
            metrics.StoreEvicted("too_large");
            lock (_gate)
            {
                // What the key held before is not what the client last stored under it.
                if (_entries.TryGetValue(key, out var stale))
                {
                    RemoveLocked(stale);
                }
            }

            return ValueTask.CompletedTask;
        }

        var byQuota = 0;
        var byBound = 0;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var previous))
            {
                RemoveLocked(previous);
            }

            if (!_clients.TryGetValue(owner, out var client))
            {
                client = new Client(owner);
                _clients[owner] = client;
            }

            var entry = new Entry(key, value, time.GetTimestamp(), client);
            entry.Recent = _recency.AddFirst(entry);
            entry.RecentInClient = client.Recency.AddFirst(entry);
            _entries[key] = entry;
            _bytes += entry.Bytes;
            client.Bytes += entry.Bytes;

            while (client.Bytes > clientBytes || client.Recency.Count > clientEntries)
            {
                RemoveLocked(client.Recency.Last!.Value);
                byQuota++;
            }

            while (_entries.Count > limits.MaxEntries || _bytes > limits.MaxBytes)
            {
                RemoveLocked(_recency.Last!.Value);
                byBound++;
            }
        }

        metrics.StoreEvicted("client_quota", byQuota);
        metrics.StoreEvicted("global_bound", byBound);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                return ValueTask.FromResult(false);
            }

            RemoveLocked(entry);
            return ValueTask.FromResult(true);
        }
    }

    private void RemoveLocked(Entry entry)
    {
        _entries.Remove(entry.Key);
        _recency.Remove(entry.Recent);
        _bytes -= entry.Bytes;
        var client = entry.Client;
        client.Recency.Remove(entry.RecentInClient);
        client.Bytes -= entry.Bytes;
        if (client.Recency.Count == 0)
        {
            _clients.Remove(client.Owner);
        }
    }

    private sealed class Client(string owner)
    {
        public string Owner { get; } = owner;

        public LinkedList<Entry> Recency { get; } = new();

        public long Bytes { get; set; }
    }

    private sealed class Entry(string key, byte[] value, long stored, Client client)
    {
        public string Key { get; } = key;

        public byte[] Value { get; } = value;

        public long Stored { get; } = stored;

        public Client Client { get; } = client;

        public long Bytes { get; } = Cost(key, value);

        /// <summary>Its node in the store's recency list.</summary>
        public LinkedListNode<Entry> Recent { get; set; } = null!;

        /// <summary>Its node in its client's recency list.</summary>
        public LinkedListNode<Entry> RecentInClient { get; set; } = null!;

        /// <summary>The value and the key (UTF-16), roughly what the entry costs.</summary>
        public static long Cost(string key, byte[] value) => value.Length + (key.Length * 2L);
    }
}
