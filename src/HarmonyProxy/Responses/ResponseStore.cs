using HarmonyProxy.Configuration;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Responses;

/// <summary>A stored response: what <c>GET</c> returns and what <c>previous_response_id</c> continues.</summary>
/// <param name="Id">The response id.</param>
/// <param name="Owner">The client it belongs to (its key's id, or its address without keys).</param>
/// <param name="Response">The response object as JSON.</param>
/// <param name="Conversation">Every item of the conversation up to and including this response's output, as a JSON array.</param>
internal sealed record StoredResponse(string Id, string Owner, byte[] Response, byte[] Conversation)
{
    public long Bytes => Response.Length + Conversation.Length + (Id.Length * 2) + (Owner.Length * 2);
}

/// <summary>
/// Responses kept in this process, bounded in count, bytes and age
/// (<c>Responses:StoreMaxEntries</c>, <c>StoreMaxBytes</c>, <c>StoreMaxAgeMinutes</c>); the
/// least recently used go first. A response is only ever found by the client that created it.
/// </summary>
internal sealed class ResponseStore(IOptionsMonitor<HarmonyProxyOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

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

    public void Put(StoredResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var limits = options.CurrentValue.Responses;
        if (response.Bytes > limits.StoreMaxBytes)
        {
            return;
        }

        lock (_gate)
        {
            RemoveLocked(response.Id);
            _entries[response.Id] = _recency.AddFirst(new Entry(response, time.GetTimestamp()));
            _bytes += response.Bytes;
            while (_entries.Count > limits.StoreMaxEntries || _bytes > limits.StoreMaxBytes)
            {
                RemoveLocked(_recency.Last!.Value.Response.Id);
            }
        }
    }

    /// <summary>The response if it exists, is not too old and belongs to <paramref name="owner"/>.</summary>
    public StoredResponse? Get(string id, string owner)
    {
        var maxAge = TimeSpan.FromMinutes(options.CurrentValue.Responses.StoreMaxAgeMinutes);
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var node))
            {
                return null;
            }

            if (time.GetElapsedTime(node.Value.Stored) > maxAge)
            {
                RemoveLocked(id);
                return null;
            }

            if (node.Value.Response.Owner != owner)
            {
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Response;
        }
    }

    public bool Delete(string id, string owner)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var node) || node.Value.Response.Owner != owner)
            {
                return false;
            }

            RemoveLocked(id);
            return true;
        }
    }

    private void RemoveLocked(string id)
    {
        if (_entries.Remove(id, out var node))
        {
            _recency.Remove(node);
            _bytes -= node.Value.Response.Bytes;
        }
    }

    private sealed record Entry(StoredResponse Response, long Stored);
}
