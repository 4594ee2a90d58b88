using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Preparation;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Forwarding;

/// <summary>
/// The engine every completion API shares, after YARP's <c>HttpForwarder</c>: a prepared request
/// in, a client channel to write to, one ending value out. The endpoints only read their wire's
/// request, call this and choose their wire's writer.
/// </summary>
/// <remarks>
/// <code>
///  ForwardAsync(request, channel) ─────────────────────────────────────────────── CompletionResult
///   Step 1  choose a backend: a slot on the conversation's backend, else another; none → 429
///   Step 2  attempt, under the one retry strategy (ForwarderRetry, budget MaxRetries):
///     2a  act on the last decision: resend, move to another backend, or ask differently (recovery)
///     2b  send: UpstreamClient → the backend's breaker → first-byte timeout (no retry down there)
///     2c  relay: llama-server's events → translator → channel, flushed before every wait
///         └─ broken before the client saw output? RetryDecision: resend / move / recover / stop
///   Step 3  end once: the finish, a watchdog's length finish, an error event after output,
///           or an HTTP error before it
///   Step 4  remember the turn's reasoning (a tool-call turn) in the reasoning memory
///   Step 5  the ending value: outcome, failure, every attempt, backend, recovery, tokens, timings
/// </code>
/// The <c>// Step N</c> comments in <see cref="ForwardingRun"/> follow these numbers.
/// </remarks>
internal sealed class CompletionForwarder(
    UpstreamClient upstream,
    BackendPool pool,
    ForwarderRetry retry,
    ReasoningMemory memory,
    UpstreamSetupReport setup,
    UpstreamBreakerState breaker,
    TimeProvider time,
    IOptionsMonitor<UpstreamOptions> upstreamOptions,
    IOptionsMonitor<ParserOptions> parser,
    IOptionsMonitor<LoopGuardOptions> loopGuard,
    ILogger<CompletionForwarder> logger)
{
    internal UpstreamClient Upstream => upstream;

    internal BackendPool Pool => pool;

    internal ForwarderRetry Retry => retry;

    internal UpstreamBreakerState Breaker => breaker;

    internal TimeProvider Time => time;

    internal ILogger Logger => logger;

    private ForwarderSettings Settings() =>
        new(upstreamOptions.CurrentValue, parser.CurrentValue, loopGuard.CurrentValue);

    /// <summary>Forwards one prepared request; the channel has received its whole response when this returns.</summary>
    public async Task<CompletionResult> ForwardAsync(ForwardRequest request, IClientChannel channel)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(channel);
        using var run = new ForwardingRun(this, request, channel, Settings());
        var result = await run.RunAsync();

        // Step 4: a tool-call turn's reasoning, for the turn that sends its results back without it
        if (run.Translator is { Completed: true } completed)
        {
            if (completed is { NativeToolCallIds.Count: > 0, ReasoningCapture.Length: > 0 })
            {
                memory.Remember(request.Owner, completed.NativeToolCallIds, completed.ReasoningCapture.ToString());
            }

            setup.ObserveFirstResponse(completed.UpstreamFlavour);
        }

        return result;
    }
}
