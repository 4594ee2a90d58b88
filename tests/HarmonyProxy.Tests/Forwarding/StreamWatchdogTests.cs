using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Forwarding;

public sealed class StreamWatchdogTests
{
    private static readonly WatchdogLimits Limits = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(600));

    [Fact]
    public void Idle_FiresWhenNoEventArrivesWithinTheLimit()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnUpstreamActivity();

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(watchdog.Token.IsCancellationRequested);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(watchdog.Token.IsCancellationRequested);
        Assert.Equal(WatchdogKind.Idle, watchdog.Fired);
    }

    [Fact]
    public void Idle_IsReArmedByEveryEvent()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnVisibleOutput();

        for (var i = 0; i < 10; i++)
        {
            watchdog.OnUpstreamActivity();
            time.Advance(TimeSpan.FromSeconds(20));
        }

        Assert.False(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void Idle_IsPausedWhileANewAttemptIsSent()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnUpstreamActivity();

        watchdog.PauseIdle();
        time.Advance(TimeSpan.FromSeconds(100));

        Assert.False(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void NoVisibleOutput_FiresOnAReasoningLoop()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);

        for (var second = 0; second < 121 && !watchdog.Token.IsCancellationRequested; second++)
        {
            watchdog.OnUpstreamActivity();
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(WatchdogKind.NoVisibleOutput, watchdog.Fired);
    }

    [Fact]
    public void NoVisibleOutput_IsDisarmedByAnswerText_AndDoesNotCountPromptProcessing()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);

        // Prompt processing: no events yet, only the first-byte timeout applies.
        time.Advance(TimeSpan.FromSeconds(300));
        Assert.False(watchdog.Token.IsCancellationRequested);

        watchdog.OnUpstreamActivity();
        watchdog.OnVisibleOutput();
        for (var second = 0; second < 200; second++)
        {
            watchdog.OnUpstreamActivity();
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.False(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void Total_EndsEvenAnActiveStream()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnUpstreamActivity();
        watchdog.OnVisibleOutput();

        for (var second = 0; second <= 600; second++)
        {
            watchdog.OnUpstreamActivity();
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(WatchdogKind.Total, watchdog.Fired);
    }

    [Fact]
    public void ClientAbort_CancelsWithoutBlamingAWatchdog()
    {
        using var aborted = new CancellationTokenSource();
        using var watchdog = new StreamWatchdog(Limits, new FakeTimeProvider(), aborted.Token);

        aborted.Cancel();

        Assert.True(watchdog.Token.IsCancellationRequested);
        Assert.Equal(WatchdogKind.None, watchdog.Fired);
    }

    [Fact]
    public void Idle_FiresAtTheLimitAfterTheLastEvent_EvenWithEventsEveryMillisecond()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnVisibleOutput();
        for (var ms = 0; ms < 5000; ms++)
        {
            watchdog.OnUpstreamActivity();
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // The last event came at 4.999 s; the idle limit is 30 s from it, not from the first event.
        time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.False(watchdog.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(WatchdogKind.Idle, watchdog.Fired);
        Assert.True(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void Idle_StartsAgainWithTheFirstEventAfterAPause()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnVisibleOutput();
        watchdog.OnUpstreamActivity();
        watchdog.PauseIdle();
        time.Advance(TimeSpan.FromSeconds(100));

        watchdog.OnUpstreamActivity();
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(watchdog.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(WatchdogKind.Idle, watchdog.Fired);
    }

    [Fact]
    public void Limits_LongerThanATimerCanWait_AreReachedInSteps()
    {
        var time = new FakeTimeProvider();
        var limits = new WatchdogLimits(TimeSpan.FromDays(400), TimeSpan.FromDays(400), TimeSpan.FromDays(100));
        using var watchdog = new StreamWatchdog(limits, time, CancellationToken.None);
        watchdog.OnUpstreamActivity();
        watchdog.OnVisibleOutput();

        for (var day = 0; day < 99; day++)
        {
            time.Advance(TimeSpan.FromDays(1));
        }

        Assert.False(watchdog.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(WatchdogKind.Total, watchdog.Fired);
    }

    [Fact]
    public void Dispose_StopsTheTimer_SoNothingFiresAfterTheRequest()
    {
        var time = new FakeTimeProvider();
        var watchdog = new StreamWatchdog(Limits, time, CancellationToken.None);
        watchdog.OnUpstreamActivity();
        var token = watchdog.Token;

        watchdog.Dispose();
        time.Advance(TimeSpan.FromSeconds(1000));

        Assert.False(token.IsCancellationRequested);
        Assert.Equal(WatchdogKind.None, watchdog.Fired);
    }
}
