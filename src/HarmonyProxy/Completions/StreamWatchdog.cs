using HarmonyProxy.Diagnostics;

namespace HarmonyProxy.Completions;

/// <summary>The watchdogs' limits for one request.</summary>
internal sealed record WatchdogLimits(TimeSpan Idle, TimeSpan NoVisibleOutput, TimeSpan Total);

/// <summary>
/// The per-request stall watchdogs as one cancellation token: the idle limit runs from the last
/// upstream event (YARP's activity timeout), the no-visible-output limit from the first event
/// until the first answer text or tool call, the total limit from the start. Time comes from a
/// <see cref="TimeProvider"/>, so tests drive it with a fake clock.
/// </summary>
/// <remarks>
/// One timer serves all three limits, and it is never moved per event: an event only records
/// its time. When the timer fires it checks the deadlines and, if none has passed (events kept
/// coming), sets itself for the earliest one. The token path therefore costs a timestamp per
/// token, not a timer-queue update, and a stream holds one timer and one linked token source
/// instead of one of each per limit.
/// </remarks>
internal sealed class StreamWatchdog : IDisposable
{
    // Timers cannot be set beyond about 49 days; a longer limit is reached in steps.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly WatchdogLimits _limits;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cancellation;
    private readonly ITimer _timer;
    private readonly long _started;
    private readonly Lock _gate = new();

    // Deadlines as time since _started; TimeSpan.MaxValue while a limit is not running.
    private TimeSpan _noVisibleDeadline = TimeSpan.MaxValue;
    private TimeSpan _timerDue;
    private long _lastActivity;
    private bool _idleRunning;
    private bool _streaming;
    private bool _visible;
    private bool _disposed;
    private volatile WatchdogKind _fired;

    public StreamWatchdog(WatchdogLimits limits, TimeProvider time, CancellationToken requestAborted)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(time);
        _limits = limits;
        _time = time;
        _started = time.GetTimestamp();
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        _timerDue = Min(limits.Total, LongestWait);

        // Set only once assigned: a callback may run before CreateTimer returns.
        _timer = time.CreateTimer(static state => ((StreamWatchdog)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(_timerDue, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when the client goes away or any watchdog fires; pass it to every upstream call.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Which watchdog fired, if any (the client going away is not a watchdog).</summary>
    public WatchdogKind Fired => _fired;

    /// <summary>An upstream event (or the response headers) arrived: the idle limit starts again.</summary>
    public void OnUpstreamActivity()
    {
        if (_idleRunning && _streaming)
        {
            // The per-token path: the timer reads this when it fires.
            Volatile.Write(ref _lastActivity, _time.GetTimestamp());
            return;
        }

        lock (_gate)
        {
            if (_disposed || _cancellation.IsCancellationRequested)
            {
                return;
            }

            var now = Elapsed();
            Volatile.Write(ref _lastActivity, _time.GetTimestamp());
            _idleRunning = true;
            if (!_streaming)
            {
                // Prompt processing (before the first event) is the first-byte timeout's business;
                // the reasoning-loop clock starts with generation.
                _streaming = true;
                if (!_visible)
                {
                    _noVisibleDeadline = now + _limits.NoVisibleOutput;
                }
            }

            ScheduleLocked(now);
        }
    }

    /// <summary>Answer text or a tool call reached the client: reasoning loops are no longer the question.</summary>
    public void OnVisibleOutput()
    {
        if (_visible)
        {
            return;
        }

        lock (_gate)
        {
            // The timer, if set for this deadline, finds nothing due and moves on.
            _visible = true;
            _noVisibleDeadline = TimeSpan.MaxValue;
        }
    }

    /// <summary>Between attempts: no idle limit while a new request is being sent (the first-byte timeout covers that).</summary>
    public void PauseIdle()
    {
        lock (_gate)
        {
            // The next event starts the idle limit again, whenever it comes.
            _idleRunning = false;
        }
    }

    /// <summary>Ends the generation now, as a watchdog would: the proxy is shutting down and the drain time is over.</summary>
    public void EndForShutdown() => EndNow(WatchdogKind.Shutdown);

    /// <summary>Ends the generation now, as the no-visible-output watchdog would: its reasoning is looping.</summary>
    public void EndForReasoningLoop() => EndNow(WatchdogKind.ReasoningLoop);

    private void EndNow(WatchdogKind kind)
    {
        lock (_gate)
        {
            if (_disposed || _cancellation.IsCancellationRequested)
            {
                return;
            }

            _fired = kind;
        }

        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The request ended meanwhile.
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _timer.Dispose();
        _cancellation.Dispose();
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_disposed || _cancellation.IsCancellationRequested)
            {
                return;
            }

            var now = Elapsed();
            _timerDue = TimeSpan.MaxValue;
            var fired = now >= _limits.Total ? WatchdogKind.Total
                : now >= _noVisibleDeadline ? WatchdogKind.NoVisibleOutput
                : now >= IdleDeadline() ? WatchdogKind.Idle
                : WatchdogKind.None;
            if (fired == WatchdogKind.None)
            {
                ScheduleLocked(now);
                return;
            }

            _fired = fired;
        }

        try
        {
            // Outside the lock: cancelling runs the callbacks of the calls that hold the token.
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The request ended between the check and the cancel; nothing is left to stop.
        }
    }

    /// <summary>Sets the timer for the earliest deadline, unless it is already due before that.</summary>
    private void ScheduleLocked(TimeSpan now)
    {
        var due = Min(Min(_limits.Total, _noVisibleDeadline), Min(IdleDeadline(), now + LongestWait));
        if (due < _timerDue)
        {
            _timerDue = due;
            _timer.Change(due > now ? due - now : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private TimeSpan IdleDeadline() =>
        _idleRunning ? _time.GetElapsedTime(_started, Volatile.Read(ref _lastActivity)) + _limits.Idle : TimeSpan.MaxValue;

    private TimeSpan Elapsed() => _time.GetElapsedTime(_started);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
