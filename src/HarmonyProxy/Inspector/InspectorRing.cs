using Microsoft.Extensions.Options;

namespace HarmonyProxy.Inspector;

/// <summary>The most recent requests, newest first, at most <c>Inspector:MaxRequests</c>: adding one past the limit lets the oldest go.</summary>
internal sealed class InspectorRing(IOptions<InspectorOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<RequestTrace> _traces = new();
    private readonly Dictionary<string, LinkedListNode<RequestTrace>> _byId = new(StringComparer.Ordinal);

    /// <summary>Starts keeping a request.</summary>
    public RequestTrace Begin(string id, string method, string path)
    {
        var trace = new RequestTrace(id, time.GetUtcNow(), method, path, options.Value.MaxBodyBytes);
        lock (_gate)
        {
            if (_byId.Remove(id, out var previous))
            {
                // A client that reuses its request id: the newer request is the one kept.
                _traces.Remove(previous);
                previous.Value.Evict();
            }

            _byId[id] = _traces.AddFirst(trace);
            while (_traces.Count > options.Value.MaxRequests)
            {
                var oldest = _traces.Last!.Value;
                _byId.Remove(oldest.Id);
                _traces.RemoveLast();
                oldest.Evict();
            }
        }

        return trace;
    }

    /// <summary>The requests kept, newest first.</summary>
    public IReadOnlyList<RequestTrace> Recent()
    {
        lock (_gate)
        {
            return [.. _traces];
        }
    }

    public RequestTrace? Find(string id)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(id, out var node) ? node.Value : null;
        }
    }
}
