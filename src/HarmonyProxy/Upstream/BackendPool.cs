using HarmonyProxy.Diagnostics;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>
/// The llama-servers behind the proxy and the admission to them. A request takes a slot on one
/// backend: the one its affinity key prefers (rendezvous hashing, so a conversation keeps landing
/// where its prompt prefix is cached) unless that backend is at its slot cap while another has a
/// free slot, which then takes it (bounded load: never queue behind a hot backend while another
/// idles). With no free slot anywhere the request waits in one bounded FIFO queue (429 beyond it),
/// and the first freed slot it may use is its. A backend that fails (connection, timeout, 502,
/// 503, 504, a 200 that is no completion, a failed health probe) is ejected for a back-off that
/// doubles with each failure in a row (1 s to 60 s): it is chosen again only when no healthy
/// backend is left, or once the back-off is over.
/// </summary>
internal sealed partial class BackendPool
{
    private static readonly TimeSpan FirstEjection = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestEjection = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private readonly TimeProvider _time;
    private readonly ProxyMetrics _metrics;
    private readonly int _defaultSlots;
    private readonly int _configuredSlots;
    private readonly int _queueLimit;
    private int _turn;

    public BackendPool(IOptions<UpstreamOptions> options, TimeProvider time, ProxyMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        var upstream = options.Value;
        _time = time;
        _metrics = metrics;
        _defaultSlots = upstream.MaxConcurrentRequests;
        _configuredSlots = upstream.SlotsPerBackend;
        _queueLimit = upstream.MaxQueuedRequests;
        _backends = upstream.BackendUris().Select((uri, index) => new Backend(uri, index)).ToList();
        foreach (var backend in _backends)
        {
            _metrics.BackendAdded(backend.Name, SlotsOf(backend));
        }
    }

    private IReadOnlyList<Backend> _backends;

    /// <summary>The backends now (replaced as a whole when discovery finds others; requests on a removed one finish there).</summary>
    public IReadOnlyList<Backend> Backends => Volatile.Read(ref _backends);

    /// <summary>
    /// The backends discovery found (a DNS name's addresses): known ones keep their state, new ones
    /// join, gone ones leave; an empty set is ignored (keep what works rather than nothing).
    /// </summary>
    public void SetBackends(IReadOnlyList<Uri> apiBases)
    {
        ArgumentNullException.ThrowIfNull(apiBases);
        if (apiBases.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var known = _backends.ToDictionary(b => b.ApiBase.ToString(), StringComparer.OrdinalIgnoreCase);
            var next = new List<Backend>(apiBases.Count);
            foreach (var uri in apiBases)
            {
                var backend = known.TryGetValue(uri.ToString(), out var existing) ? existing : new Backend(uri, next.Count);
                backend.Index = next.Count;
                next.Add(backend);
            }

            Volatile.Write(ref _backends, next);
            RefreshServedModels();
            foreach (var backend in next)
            {
                _metrics.BackendSlotCap(backend.Name, SlotsOf(backend));
            }

            PlaceWaiters();
        }
    }

    /// <summary>Raised when a request has to wait for (or is refused) a slot.</summary>
    public event Action? Waiting;

    /// <summary>
    /// A slot for a request with <paramref name="affinityKey"/> (null: least loaded), avoiding
    /// <paramref name="avoid"/> (backends that already failed it) while another exists; null when
    /// the queue is full.
    /// </summary>
    public async ValueTask<BackendLease?> AcquireAsync(string? affinityKey, IReadOnlyCollection<Backend>? avoid, string? model, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (TryPlace(affinityKey, avoid, model) is { } lease)
            {
                return lease;
            }

            if (_waiting.Count >= _queueLimit)
            {
                Waiting?.Invoke();
                return null;
            }

            waiter = new Waiter(affinityKey, avoid, model);
            waiter.Node = _waiting.AddLast(waiter);
        }

        Waiting?.Invoke();
        using var registration = cancellationToken.Register(static state =>
        {
            var (pool, queued) = ((BackendPool, Waiter))state!;
            lock (pool._gate)
            {
                if (queued.Node?.List is not null)
                {
                    pool._waiting.Remove(queued.Node);
                }
            }

            queued.Placed.TrySetCanceled();
        }, (this, waiter));
        return await waiter.Placed.Task;
    }

    /// <summary>A backend failed in a way that says it is down or overloaded: eject it for a while.</summary>
    public void ReportFailure(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (_gate)
        {
            backend.Failures++;
            var ejection = TimeSpan.FromTicks(Math.Min(LongestEjection.Ticks, FirstEjection.Ticks << Math.Min(backend.Failures - 1, 16)));
            backend.EjectedUntil = _time.GetTimestamp() + (long)(ejection.TotalSeconds * _time.TimestampFrequency);
        }

        _metrics.BackendEjected(backend.Name);
    }

    /// <summary>
    /// Its health probe failed (no answer in time, or not 200): ejected like a failed request
    /// (unless it already is), and the requests still waiting on it for their first byte are told
    /// (<see cref="Backend.ProbeFailed"/>), so a hung backend holds no one until the first-byte timeout.
    /// </summary>
    /// <returns>True when this probe ejected it (it was not ejected before).</returns>
    public bool ReportProbeFailure(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var ejecting = backend.EjectedUntil <= _time.GetTimestamp();
        if (ejecting)
        {
            ReportFailure(backend);
        }

        backend.TakeProbeFailedSignal().Cancel();
        return ejecting;
    }

    /// <summary>A backend answered: it is healthy again.</summary>
    public void ReportSuccess(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (_gate)
        {
            backend.Failures = 0;
            backend.EjectedUntil = 0;
        }
    }

    /// <summary>What a backend's <c>/props</c> said: its slot count becomes its cap (unless one is configured).</summary>
    public void ObserveSlots(Backend backend, int totalSlots)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (_gate)
        {
            backend.TotalSlots = totalSlots;
            PlaceWaiters();
        }

        _metrics.BackendSlotCap(backend.Name, SlotsOf(backend));
    }

    /// <summary>The backend that serves llama-server's other routes and the readiness probe.</summary>
    public Backend Primary => Backends[0];

    internal void Release(Backend backend)
    {
        lock (_gate)
        {
            backend.InFlight--;
            _metrics.BackendSlotGiven(backend.Name);
            PlaceWaiters();
        }
    }

    private int SlotsOf(Backend backend) =>
        _configuredSlots > 0 ? _configuredSlots : backend.TotalSlots is > 0 and var slots ? slots : _defaultSlots;

    /// <summary>Under the lock: hands freed slots to waiters, oldest first.</summary>
    private void PlaceWaiters()
    {
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (TryPlace(node.Value.AffinityKey, node.Value.Avoid, node.Value.Model) is { } lease)
            {
                _waiting.Remove(node);
                if (!node.Value.Placed.TrySetResult(lease))
                {
                    // Cancelled meanwhile: give the slot back to the next in line.
                    ReleaseLocked(lease.Backend);
                }
            }

            node = next;
        }
    }

    private void ReleaseLocked(Backend backend)
    {
        backend.InFlight--;
        _metrics.BackendSlotGiven(backend.Name);
    }

    /// <summary>Under the lock: the preferred backend if it has a free slot, else the least loaded one that has.</summary>
    private BackendLease? TryPlace(string? affinityKey, IReadOnlyCollection<Backend>? avoid, string? model)
    {
        var now = _time.GetTimestamp();
        var backends = _backends;
        var serving = For(model);
        var candidates = serving.Where(b => avoid is null || !avoid.Contains(b)).ToList();
        if (candidates.Count == 0)
        {
            candidates = [.. serving];
        }

        var healthy = candidates.Where(b => b.EjectedUntil <= now).ToList();
        if (healthy.Count > 0)
        {
            candidates = healthy;
        }

        var preferred = affinityKey is null ? null : candidates.MaxBy(b => Score(affinityKey, b));
        // Without a preferred one (or with it full): the least loaded, ties taken in turn.
        var count = backends.Count;
        var start = (int)((uint)_turn++ % (uint)count);
        Backend? chosen = preferred is not null && preferred.InFlight < SlotsOf(preferred)
            ? preferred
            : candidates.Where(b => b.InFlight < SlotsOf(b))
                .MinBy(b => ((double)b.InFlight / SlotsOf(b), (b.Index - start + count) % count));
        if (chosen is null)
        {
            return null;
        }

        chosen.InFlight++;
        var hit = preferred is not null && chosen == preferred;
        _metrics.BackendSlotTaken(chosen.Name, affinityKey is null ? "none" : hit ? "hit" : "miss");
        return new BackendLease(this, chosen, hit);
    }

    /// <summary>Rendezvous hashing: each key ranks the backends the same way everywhere, and losing one moves only its keys.</summary>
    private static ulong Score(string key, Backend backend)
    {
        // FNV-1a over the key, a separator and the backend's name: stable across processes and restarts.
        const ulong Prime = 1099511628211;
        var hash = 14695981039346656037;
        foreach (var c in key)
        {
            hash = (hash ^ c) * Prime;
        }

        hash = (hash ^ '\n') * Prime;
        foreach (var c in backend.Name)
        {
            hash = (hash ^ c) * Prime;
        }

        return hash;
    }

    private sealed class Waiter(string? affinityKey, IReadOnlyCollection<Backend>? avoid, string? model)
    {
        public string? AffinityKey { get; } = affinityKey;

        public string? Model { get; } = model;

        public IReadOnlyCollection<Backend>? Avoid { get; } = avoid;

        public TaskCompletionSource<BackendLease> Placed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
