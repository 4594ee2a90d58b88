using System.Diagnostics.CodeAnalysis;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace HarmonyProxy.Forwarding;

/// <summary>
/// The one retry layer, and it is Polly's: one retry strategy around a whole attempt up to the
/// first byte the client sees (send, first upstream events, a move to another backend, a
/// recovery), with <c>MaxRetries</c> as its only budget (at most N+1 requests reach llama-server
/// for one client request) and <see cref="RetryDecision"/> as its <c>ShouldHandle</c>. The
/// typed <see cref="HttpClient"/> below it only guards the send (per-backend breaker, first-byte
/// timeout) and never retries.
/// </summary>
internal sealed class ForwarderRetry
{
    /// <summary>The decision the last <c>ShouldHandle</c> made, for the next attempt and the delay to act on.</summary>
    public static readonly ResiliencePropertyKey<RetryAction> Decision = new("HarmonyProxy.RetryDecision");

    private static readonly ResiliencePropertyKey<Func<AttemptOutcome, int, RetryAction>> Decide = new("HarmonyProxy.Decide");

    private readonly ResiliencePipeline<AttemptOutcome> _attempts;
    private readonly ResiliencePipeline<HttpResponseMessage> _passThrough;

    public ForwarderRetry(IOptions<UpstreamOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var upstream = options.Value;
        MaxRetries = upstream.MaxRetries;
        _attempts = Build<AttemptOutcome>(upstream, time, static args =>
            args.Outcome.Result is { } outcome && args.Context.Properties.TryGetValue(Decide, out var decide)
                ? decide(outcome, args.AttemptNumber)
                : RetryAction.Stop,
            static outcome => outcome.RetryAfter);
        _passThrough = Build<HttpResponseMessage>(upstream, time, args => PassThroughDecision(args.Outcome, args.AttemptNumber, args.Context),
            static response => response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Requests beyond the first that llama-server may receive for one client request.</summary>
    public int MaxRetries { get; }

    /// <summary>
    /// Runs <paramref name="attempt"/> until <paramref name="decide"/> (given the outcome and the
    /// 0-based attempt number) says stop or the budget is spent; the attempt reads the decision it
    /// follows from <see cref="Decision"/>.
    /// </summary>
    public async ValueTask<AttemptOutcome> ExecuteAsync<TState>(
        Func<ResilienceContext, TState, ValueTask<AttemptOutcome>> attempt,
        Func<AttemptOutcome, int, RetryAction> decide,
        TState state,
        CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(Decide, decide);
            context.Properties.Set(Decision, RetryAction.Stop);
            var outcome = await _attempts.ExecuteOutcomeAsync(
                static async (context, state) => Outcome.FromResult(await state.Attempt(context, state.State)),
                context,
                (Attempt: attempt, State: state));
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>A route passed through: resent (never moved) on the same decision while the budget lasts.</summary>
    public ValueTask<HttpResponseMessage> SendPassThroughAsync(Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken) =>
        _passThrough.ExecuteAsync(static async (send, token) => await send(token), send, cancellationToken);

    private RetryAction PassThroughDecision(Outcome<HttpResponseMessage> outcome, int attemptNumber, ResilienceContext context)
    {
        if (outcome.Exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return RetryAction.Stop;
        }

        var (kind, circuitOpen, _) = UpstreamResilience.Classify(outcome);
        return RetryDecision.Decide(new RetryFacts(kind, circuitOpen, OutputStarted: false, MaxRetries - attemptNumber, AnotherBackend: false, CanReparseRaw: false, CanRepairHistory: false));
    }

    private ResiliencePipeline<T> Build<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] T>(UpstreamOptions upstream, TimeProvider time, Func<RetryPredicateArguments<T>, RetryAction> decide, Func<T, TimeSpan?> retryAfter)
    {
        var builder = new ResiliencePipelineBuilder<T> { TimeProvider = time };
        if (MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<T>
            {
                MaxRetryAttempts = MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = upstream.RetryBackoff,
                ShouldHandle = args =>
                {
                    var action = decide(args);
                    args.Context.Properties.Set(Decision, action);
                    return ValueTask.FromResult(action != RetryAction.Stop);
                },
                // A move or a recovery asks something else: no reason to wait. A resend waits the
                // backoff, or what llama-server asked for.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Context.Properties.GetValue(Decision, RetryAction.Stop) != RetryAction.Resend ? TimeSpan.Zero
                    : args.Outcome.Result is { } result ? retryAfter(result) : null),
            });
        }

        return builder.Build();
    }
}
