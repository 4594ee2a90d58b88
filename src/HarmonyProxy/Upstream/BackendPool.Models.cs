using HarmonyProxy.Wire;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Which models each backend serves (its <c>/v1/models</c>, read by <see cref="BackendMonitor"/>):
/// with more than one model among them, a request takes a slot only on a backend that serves its
/// <c>model</c>, and affinity, slots and moves stay within those.
/// </summary>
internal sealed partial class BackendPool
{
    /// <summary>Raised when a backend's model list changed.</summary>
    public event Action? ModelsChanged;

    /// <summary>What a backend's <c>/v1/models</c> listed: from then on, with several models known, a request goes only where its model is.</summary>
    public void ObserveModels(Backend backend, IReadOnlyList<LlamaServerModel> models)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(models);
        lock (_gate)
        {
            if (backend.Models.SequenceEqual(models, ModelComparer.Instance))
            {
                return;
            }

            backend.Models = models;
            RefreshServedModels();
            PlaceWaiters();
        }

        ModelsChanged?.Invoke();
    }

    /// <summary>
    /// The models the backends serve, each once (by id), the first backend's first. A request is
    /// routed by its <c>model</c> only when there is more than one: a single llama-server ignores
    /// the field, and so does the proxy then (clients name their model loosely).
    /// </summary>
    public IReadOnlyList<LlamaServerModel> ServedModels() => Volatile.Read(ref _servedModels);

    /// <summary>True when requests are routed by their <c>model</c> (the backends serve more than one).</summary>
    public bool RoutesByModel => ServedModels().Count > 1;

    /// <summary>Kept rather than worked out per request: the backends' lists change every few seconds at most.</summary>
    private IReadOnlyList<LlamaServerModel> _servedModels = [];

    /// <summary>Under the lock, when a backend's models or the set of backends changed.</summary>
    private void RefreshServedModels() =>
        Volatile.Write(ref _servedModels, _backends.SelectMany(b => b.Models).DistinctBy(m => m.Id, StringComparer.OrdinalIgnoreCase).ToList());

    /// <summary>False when requests are routed by model and no backend serves <paramref name="model"/>.</summary>
    public bool Serves(string? model) => For(model).Count > 0;

    /// <summary>The backends a request for <paramref name="model"/> may go to (all of them unless requests are routed by model).</summary>
    public IReadOnlyList<Backend> For(string? model)
    {
        var backends = Backends;
        return string.IsNullOrEmpty(model) || !RoutesByModel ? backends : backends.Where(b => b.Serves(model)).ToList();
    }

    private sealed class ModelComparer : IEqualityComparer<LlamaServerModel>
    {
        public static readonly ModelComparer Instance = new();

        public bool Equals(LlamaServerModel? x, LlamaServerModel? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Status == y.Status && x.Aliases.SequenceEqual(y.Aliases);

        public int GetHashCode(LlamaServerModel obj) => HashCode.Combine(obj.Id, obj.Status);
    }
}
