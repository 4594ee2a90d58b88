using HarmonyProxy.Diagnostics;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Upstream;

/// <summary>
/// The resilience pipeline around the send-until-headers phase of every llama-server call:
/// circuit breaker → attempt (first-byte) timeout, one per backend. It never retries: the one
/// retry layer is the forwarder's (<c>ForwarderRetry</c>), around a whole attempt, so
/// <c>MaxRetries</c> is one budget whatever failed.
/// </summary>
internal static class UpstreamResilience
{
    public const string PipelineName = "llama-server";

    /// <summary>
    /// What counts against the circuit breaker: only what says llama-server is unreachable or
    /// overloaded. Its 500s are answers about one request (a parse failure the proxy recovers
    /// from, a template complaint about one history), not an outage.
    /// </summary>
    public static bool IsFailure(Outcome<HttpResponseMessage> outcome) =>
        Classify(outcome) is { Kind: UpstreamErrorKind.Transient, CircuitOpen: false };

    /// <summary>
    /// The one reading of a send's outcome, for the breaker and the retry decision alike: a
    /// connection failure, a first-byte timeout and a transient status (<see cref="LlamaServerErrors.IsTransientStatus"/>)
    /// are transient; an open breaker is too, but only another backend can help.
    /// </summary>
    public static (UpstreamErrorKind Kind, bool CircuitOpen, string Reason) Classify(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: BrokenCircuitException } => (UpstreamErrorKind.Transient, true, RetryReasons.CircuitOpen),
        { Exception: TimeoutRejectedException } => (UpstreamErrorKind.Transient, false, RetryReasons.FirstByteTimeout),
        { Exception: HttpRequestException } => (UpstreamErrorKind.Transient, false, RetryReasons.Connection),
        { Result: { IsSuccessStatusCode: false } response } => (LlamaServerErrors.Classify((int)response.StatusCode, message: null), false, RetryReasons.Status((int)response.StatusCode)),
        _ => (UpstreamErrorKind.Deterministic, false, "other"),
    };

    /// <param name="breaker">Told why the circuit breaker opened, so its errors can say so.</param>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, UpstreamOptions options, UpstreamBreakerState? breaker = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = options.CircuitBreakerFailureRatio,
            MinimumThroughput = options.CircuitBreakerMinimumThroughput,
            SamplingDuration = options.CircuitBreakerSampling,
            BreakDuration = options.CircuitBreakerBreak,
            ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
            OnOpened = args =>
            {
                breaker?.Opened(args.Outcome, args.BreakDuration);
                return ValueTask.CompletedTask;
            },
        });

        pipeline.AddTimeout(options.FirstByteTimeout);
    }
}
