namespace HarmonyProxy.Hosting;

/// <summary>
/// Gives memory back after requests with large bodies. Such a request's garbage (the body, its
/// JSON tree and strings, the copy sent upstream) is several times its size, and the server GC
/// keeps what it committed for the next peak: five 15 MB Responses inputs from one client held
/// the process at 400 MB long after they were served. After a body of <see cref="LargeBodyBytes"/>
/// or more, one compacting collection that decommits free memory is scheduled in the background:
/// <see cref="QuietDelay"/> later, so a burst of large requests costs one, and never sooner than
/// <see cref="MinimumInterval"/> after the last. A pause of some milliseconds for the streams open
/// at that moment, against hundreds of megabytes returned (README, Performance).
/// </summary>
internal sealed class MemoryReturn(TimeProvider time)
{
    public const long LargeBodyBytes = 4 * 1024 * 1024;

    public static readonly TimeSpan QuietDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private bool _scheduled;
    private long _lastCollection = long.MinValue;

    /// <summary>Collections run so far.</summary>
    public int Collections { get; private set; }

    /// <summary>The scheduled collection, until it has run (a test's handshake).</summary>
    public Task Pending { get; private set; } = Task.CompletedTask;

    /// <summary>Called when a request with a large body ended: a collection is scheduled unless one already is.</summary>
    public void AfterLargeBody()
    {
        TimeSpan delay;
        lock (_gate)
        {
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
            var sinceLast = _lastCollection == long.MinValue ? MinimumInterval : time.GetElapsedTime(_lastCollection);
            delay = sinceLast >= MinimumInterval - QuietDelay ? QuietDelay : MinimumInterval - sinceLast;
        }

        Pending = CollectAfterAsync(delay);
    }

    private async Task CollectAfterAsync(TimeSpan delay)
    {
        await Task.Delay(delay, time).ConfigureAwait(false);
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        lock (_gate)
        {
            _scheduled = false;
            _lastCollection = time.GetTimestamp();
            Collections++;
        }
    }
}
