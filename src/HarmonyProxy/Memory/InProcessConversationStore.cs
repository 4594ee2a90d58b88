using Microsoft.Extensions.Options;

namespace HarmonyProxy.Memory;

/// <summary>
/// The store in this process, bounded in count, bytes and age (<c>ReasoningMemory:MaxEntries</c>,
/// <c>MaxBytes</c>, <c>MaxAgeMinutes</c>); the least recently used entries go first.
/// </summary>
internal sealed class InProcessConversationStore(IOptionsMonitor<ReasoningMemoryOptions> options, TimeProvider time) : IConversationStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
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

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var maxAge = options.CurrentValue.MaxAge;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return ValueTask.FromResult<byte[]?>(null);
            }

            if (time.GetElapsedTime(node.Value.Stored) > maxAge)
            {
                RemoveLocked(key);
                return ValueTask.FromResult<byte[]?>(null);
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return ValueTask.FromResult<byte[]?>(node.Value.Value);
        }
    }

    public ValueTask SetAsync(string key, byte[] value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var limits = options.CurrentValue;
        var entry = new Entry(key, value, time.GetTimestamp());
        if (entry.Bytes > limits.MaxBytes)
        {
            return ValueTask.CompletedTask;
        }

        lock (_gate)
        {
            RemoveLocked(key);
            _entries[key] = _recency.AddFirst(entry);
            _bytes += entry.Bytes;
            while (_entries.Count > limits.MaxEntries || _bytes > limits.MaxBytes)
            {
                RemoveLocked(_recency.Last!.Value.Key);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(RemoveLocked(key));
        }
    }

    private bool RemoveLocked(string key)
    {
        if (!_entries.Remove(key, out var node))
        {
            return false;
        }

        _recency.Remove(node);
        _bytes -= node.Value.Bytes;
        return true;
    }

    private sealed record Entry(string Key, byte[] Value, long Stored)
    {
        /// <summary>The value and the key (UTF-16), roughly what the entry costs.</summary>
        public long Bytes => Value.Length + (Key.Length * 2L);
    }
}
