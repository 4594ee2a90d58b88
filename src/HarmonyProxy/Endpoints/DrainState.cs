namespace HarmonyProxy.Endpoints;

/// <summary>
/// The proxy's shutdown state, shared by the drain service, the endpoints and the health check:
/// whether it is draining (no new requests, not ready), how many completions are still open,
/// and the signal that ends those still open when the drain time is over.
/// </summary>
internal sealed class DrainState : IDisposable
{
    private readonly CancellationTokenSource _streamsMustEnd = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private int _open;

    public bool IsDraining { get; private set; }

    /// <summary>Completions still being served.</summary>
    public int OpenCompletions => Volatile.Read(ref _open);

    /// <summary>Cancelled when the drain time is over: every open completion ends cleanly now.</summary>
    public CancellationToken StreamsMustEnd => _streamsMustEnd.Token;

    public void BeginDraining() => IsDraining = true;

    public void EndOpenStreams() => _streamsMustEnd.Cancel();

    /// <summary>Counts a completion as open until the returned lease is disposed.</summary>
    public CompletionLease Enter()
    {
        lock (_gate)
        {
            if (_open++ == 0)
            {
                _idle = NewIdle(completed: false);
            }
        }

        return new CompletionLease(this);
    }

    /// <summary>Completes when no completion is open.</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            return _idle.Task;
        }
    }

    public void Dispose() => _streamsMustEnd.Dispose();

    private void Exit()
    {
        lock (_gate)
        {
            if (--_open == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            idle.SetResult();
        }

        return idle;
    }

    /// <summary>One open completion; disposing it closes it.</summary>
    internal readonly struct CompletionLease(DrainState owner) : IDisposable
    {
        public void Dispose() => owner?.Exit();
    }
}
