namespace HarmonyProxy.Completions;

/// <summary>Which limit ended a generation.</summary>
public enum WatchdogKind
{
    None,

    /// <summary>No upstream event for the idle limit once streaming (<c>READ_TIMEOUT</c>).</summary>
    Idle,

    /// <summary>Hidden reasoning ran past the limit without visible text or a tool call (<c>NO_FINAL_TIMEOUT</c>).</summary>
    NoVisibleOutput,

    /// <summary>The request's total ceiling.</summary>
    Total,
}

/// <summary>The watchdogs' limits for one request.</summary>
public sealed record WatchdogLimits(TimeSpan Idle, TimeSpan NoVisibleOutput, TimeSpan Total);

/// <summary>
/// The per-request stall watchdogs as one cancellation token: the idle timer is re-armed by
/// every upstream event (YARP's activity timeout), the no-visible-output timer is disarmed by
/// the first answer text or tool call, the total timer runs from the start. Time comes from a
/// <see cref="TimeProvider"/>, so tests drive it with a fake clock.
/// </summary>
public sealed class StreamWatchdog : IDisposable
{
    private readonly WatchdogLimits _limits;
    private readonly CancellationTokenSource _idle;
    private readonly CancellationTokenSource _noVisible;
    private readonly CancellationTokenSource _total;
    private readonly CancellationTokenSource _linked;
    private readonly TimeProvider _time;
    private readonly TimeSpan _rearmEvery;
    private bool _visible;
    private bool _streaming;
    private bool _idleArmed;
    private long _armedAt;

    public StreamWatchdog(WatchdogLimits limits, TimeProvider time, CancellationToken requestAborted)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(time);
        _limits = limits;
        _time = time;

        // Re-arming a timer takes the timer queue's lock; at thousands of tokens per second
        // that contends. Re-arm at most every tenth of the idle limit (and at least every
        // second), so the idle watchdog fires between Idle and 1.1 × Idle after the last event.
        _rearmEvery = TimeSpan.FromTicks(Math.Min(limits.Idle.Ticks / 10, TimeSpan.TicksPerSecond));
        _idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _noVisible = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _total = new CancellationTokenSource(limits.Total, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _idle.Token, _noVisible.Token, _total.Token);
    }

    /// <summary>Cancelled when the client goes away or any watchdog fires; pass it to every upstream call.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>Which watchdog fired, if any (the client going away is not a watchdog).</summary>
    public WatchdogKind Fired =>
        _total.IsCancellationRequested ? WatchdogKind.Total
        : _noVisible.IsCancellationRequested ? WatchdogKind.NoVisibleOutput
        : _idle.IsCancellationRequested ? WatchdogKind.Idle
        : WatchdogKind.None;

    /// <summary>An upstream event (or the response headers) arrived: the idle limit starts again.</summary>
    public void OnUpstreamActivity()
    {
        if (_linked.IsCancellationRequested)
        {
            return;
        }

        if (!_idleArmed || _time.GetElapsedTime(_armedAt) >= _rearmEvery)
        {
            _idleArmed = true;
            _armedAt = _time.GetTimestamp();
            _idle.CancelAfter(_limits.Idle);
        }

        if (!_streaming)
        {
            // Prompt processing (before the first event) is the first-byte timeout's business;
            // the reasoning-loop clock starts with generation.
            _streaming = true;
            if (!_visible)
            {
                _noVisible.CancelAfter(_limits.NoVisibleOutput);
            }
        }
    }

    /// <summary>Answer text or a tool call reached the client: reasoning loops are no longer the question.</summary>
    public void OnVisibleOutput()
    {
        if (!_visible && !_linked.IsCancellationRequested)
        {
            _visible = true;
            _noVisible.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Between attempts: no idle limit while a new request is being sent (the first-byte timeout covers that).</summary>
    public void PauseIdle()
    {
        if (!_linked.IsCancellationRequested)
        {
            _idle.CancelAfter(Timeout.InfiniteTimeSpan);

            // The next event must arm the idle timer again, whenever it comes.
            _idleArmed = false;
        }
    }

    public void Dispose()
    {
        _linked.Dispose();
        _idle.Dispose();
        _noVisible.Dispose();
        _total.Dispose();
    }
}
