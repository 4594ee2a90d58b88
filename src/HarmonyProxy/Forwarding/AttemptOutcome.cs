using HarmonyProxy.Upstream;

namespace HarmonyProxy.Forwarding;

/// <summary>How one attempt (send and relay) ended.</summary>
internal enum AttemptEnd
{
    Completed,
    Broken,
    Watchdog,
    ClientGone,
}

/// <summary>One attempt's end, as the retry decision and the ending read it.</summary>
/// <param name="Failure">What broke, when it broke.</param>
internal sealed record AttemptOutcome(AttemptEnd End, UpstreamFailure? Failure = null)
{
    public static readonly AttemptOutcome Completed = new(AttemptEnd.Completed);

    /// <summary>The client had been shown part of this attempt.</summary>
    public bool OutputStarted { get; init; }

    /// <summary>The backend's breaker refused the send.</summary>
    public bool CircuitOpen { get; init; }

    /// <summary>llama-server's <c>Retry-After</c>, when it sent one: the wait before a resend.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The low-cardinality reason for logs and metrics (<see cref="Diagnostics.RetryReasons"/>).</summary>
    public string? Reason { get; init; }
}
