using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace HarmonyProxy.Upstream;

/// <summary>
/// The resilience pipeline around the send-until-headers phase of every llama-server call
/// (Polly's "single strategy for multiple failures" anti-pattern: the body is guarded
/// separately, by the endpoint's watchdogs and its retry-before-output rule).
/// Order: retry → circuit breaker → attempt (first-byte) timeout.
/// </summary>
internal static class UpstreamResilience
{
    public const string PipelineName = "llama-server";

    /// <summary>Connection failures, first-byte timeouts and the transient statuses (<see cref="LlamaServerErrors.IsTransientStatus"/>); never another 4xx, never 500 (llama-server's deterministic errors).</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Exception: TimeoutRejectedException } => true,
        { Result: { } response } => LlamaServerErrors.IsTransientStatus((int)response.StatusCode),
        _ => false,
    };

    /// <summary>
    /// What counts against the circuit breaker: only what says llama-server is unreachable or
    /// overloaded. Its 500s are answers about one request (a parse failure the proxy recovers
    /// from, a template complaint about one history), not an outage.
    /// </summary>
    public static bool IsFailure(Outcome<HttpResponseMessage> outcome) => IsTransient(outcome);

    /// <param name="onRetry">Told each retry's reason (<see cref="RetryReason"/>).</param>
    /// <param name="breaker">Told why the circuit breaker opened, so its errors can say so.</param>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, UpstreamOptions options, Action<string>? onRetry = null, UpstreamBreakerState? breaker = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        // With several backends a failed try goes to another backend (the attempt loop), not
        // again to the one that just failed.
        if (options.MaxRetries > 0 && !options.SeveralBackends)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBackoff,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome) && TakeRetry(args.Context)),
                OnRetry = args =>
                {
                    onRetry?.Invoke(RetryReason(args.Outcome));
                    return ValueTask.CompletedTask;
                },
            });
        }

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

    /// <summary>A chat request spends its client request's shared budget; other calls (probes, routes passed through) only MaxRetries.</summary>
    private static bool TakeRetry(ResilienceContext context) =>
        context.GetRequestMessage()?.Options.TryGetValue(UpstreamRetryBudget.Key, out var budget) != true || budget!.TryTake();

    /// <summary>A low-cardinality reason for logs and metrics.</summary>
    public static string RetryReason(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException } => "first_byte_timeout",
        { Exception: HttpRequestException } => "connection",
        { Result: { } response } => "status_" + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => "other",
    };
}
