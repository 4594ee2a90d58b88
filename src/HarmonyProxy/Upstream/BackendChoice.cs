namespace HarmonyProxy.Upstream;

/// <summary>
/// The backend one client request is on, and the move to another when it fails before any
/// output: the failed one is reported (ejected for a while) and avoided, and a slot on another
/// is taken before the old one is given back. With one backend there is nowhere to move.
/// </summary>
internal sealed class BackendChoice(BackendPool pool, BackendLease lease, string? affinityKey, string? model = null) : IDisposable
{
    private readonly List<Backend> _failed = [];

    public BackendLease Lease { get; private set; } = lease;

    public Backend Current => Lease.Backend;

    /// <summary>Another backend serves the request's model.</summary>
    public bool CanMove => pool.For(model).Count > 1;

    /// <summary>A backend serving the request's model that it has not failed on, besides the current one, is configured.</summary>
    public bool HasAnother => pool.For(model).Count > _failed.Count + 1;

    public void Succeeded() => pool.ReportSuccess(Current);

    public void Failed() => pool.ReportFailure(Current);

    /// <summary>Takes a slot on another backend than those that failed this request; false when there is none to take.</summary>
    public async ValueTask<bool> MoveAsync(CancellationToken cancellationToken)
    {
        if (!CanMove)
        {
            return false;
        }

        _failed.Add(Current);
        if (await pool.AcquireAsync(affinityKey, _failed, model, cancellationToken) is not { } next)
        {
            return false;
        }

        Lease.Dispose();
        Lease = next;
        return true;
    }

    public void Dispose() => Lease.Dispose();
}
