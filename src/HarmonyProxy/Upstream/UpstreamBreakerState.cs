using Polly;
using Polly.Timeout;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Why the upstream circuit breaker last opened, in words a client or an operator can act on:
/// llama-server could not be reached (connections refused or timing out) or it kept failing
/// (502/503/504/429). Only transient failures open the breaker (<see cref="UpstreamResilience.IsFailure"/>).
/// </summary>
internal sealed class UpstreamBreakerState
{
    private volatile string _reason = "llama-server failed repeatedly";
    private long _openUntilTicks;

    /// <summary>Why the breaker opened, e.g. "llama-server could not be reached (HttpRequestException)".</summary>
    public string Reason => _reason;

    /// <summary>How long the breaker stays open from when it opened; the client's Retry-After.</summary>
    public TimeSpan BreakDuration => TimeSpan.FromTicks(Interlocked.Read(ref _openUntilTicks));

    public void Opened(Outcome<HttpResponseMessage> outcome, TimeSpan breakDuration)
    {
        _reason = outcome switch
        {
            { Exception: TimeoutRejectedException } => "llama-server did not answer in time (first-byte timeouts)",
            { Exception: { } exception } => $"llama-server could not be reached ({exception.GetType().Name})",
            { Result: { } response } => $"llama-server kept failing (HTTP {(int)response.StatusCode})",
            _ => "llama-server failed repeatedly",
        };
        Interlocked.Exchange(ref _openUntilTicks, breakDuration.Ticks);
    }
}
