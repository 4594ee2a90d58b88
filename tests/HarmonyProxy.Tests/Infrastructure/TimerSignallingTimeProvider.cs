using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>A fake clock that tells a test when a timer of a given length was started, so the test advances time only after the code under test waits on it.</summary>
internal sealed class TimerSignallingTimeProvider(TimeSpan watchedDueTime) : FakeTimeProvider
{
    private readonly SemaphoreSlim _started = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime == watchedDueTime)
        {
            _started.Release();
        }

        return timer;
    }

    /// <summary>Completes once a timer of the watched length has been created (one per call).</summary>
    public Task WhenTimerStartedAsync() => _started.WaitAsync();
}
