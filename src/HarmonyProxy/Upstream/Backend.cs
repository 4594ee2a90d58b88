namespace HarmonyProxy.Upstream;

/// <summary>One llama-server behind the proxy and what the pool knows of it. Mutated only under the pool's lock.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its CancellationTokenSource has no timer, so nothing to release; it is replaced when signalled, and requests may still hold its token.")]
internal sealed class Backend(Uri apiBase, int index)
{
    public Uri ApiBase { get; } = apiBase;

    /// <summary><c>host:port</c>: the metric label and the affinity hash's input.</summary>
    public string Name { get; } = apiBase.Authority;

    /// <summary>Its place among the backends (the first serves llama-server's other routes); discovery may move it.</summary>
    public int Index { get; set; } = index;

    public int InFlight { get; set; }

    /// <summary><c>total_slots</c> from its <c>/props</c>, when read.</summary>
    public int? TotalSlots { get; set; }

    /// <summary>The models its <c>/v1/models</c> lists (empty until read); replaced as a whole.</summary>
    public IReadOnlyList<Wire.LlamaServerModel> Models { get; set; } = [];

    /// <summary>llama-server's router mode: several models, each loaded on demand, each with a status.</summary>
    public bool IsRouter => Models.Any(model => model.Status is not null);

    /// <summary>True when it lists <paramref name="model"/> (by id or alias).</summary>
    public bool Serves(string model) => Models.Any(entry => entry.Answers(model));

    /// <summary>Failures in a row; the ejection grows with them.</summary>
    public int Failures { get; set; }

    /// <summary>Timestamp (of the pool's clock) until which it is not chosen while another is healthy.</summary>
    public long EjectedUntil { get; set; }

    /// <summary>Cancelled when its health probe fails: requests still waiting on it for a first byte give up and move.</summary>
    public CancellationToken ProbeFailed => Volatile.Read(ref _probeFailed).Token;

    private CancellationTokenSource _probeFailed = new();

    /// <summary>Signals <see cref="ProbeFailed"/> to those waiting now; later requests get a fresh token.</summary>
    public CancellationTokenSource TakeProbeFailedSignal() => Interlocked.Exchange(ref _probeFailed, new CancellationTokenSource());
}

/// <summary>A slot on one backend, held for one client request's attempt; disposing it frees the slot.</summary>
internal sealed class BackendLease(BackendPool pool, Backend backend, bool affinityHit) : IDisposable
{
    private int _disposed;

    public Backend Backend { get; } = backend;

    /// <summary>The request went to the backend its affinity key prefers.</summary>
    public bool AffinityHit { get; } = affinityHit;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            pool.Release(Backend);
        }
    }
}
