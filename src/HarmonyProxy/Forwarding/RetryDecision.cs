using HarmonyProxy.Upstream;

namespace HarmonyProxy.Forwarding;

/// <summary>What follows a failed attempt.</summary>
internal enum RetryAction
{
    /// <summary>The failure is the request's ending.</summary>
    Stop,

    /// <summary>The same request again, to the same backend, after the backoff.</summary>
    Resend,

    /// <summary>The same request to another backend, at once.</summary>
    AnotherBackend,

    /// <summary>llama-server's parser failed: asked again for raw Harmony, parsed here (<c>raw_reparse</c>).</summary>
    RawReparse,

    /// <summary>The chat template rejected the history: asked again with it repaired (<c>history_repair</c>).</summary>
    HistoryRepair,

    /// <summary>llama-server's parser failed after the client was shown reasoning: the turn goes on from there (<c>continuation</c>).</summary>
    Continue,
}

/// <summary>Everything the decision looks at, and nothing else.</summary>
/// <param name="Kind">What the failure means for another try (<see cref="LlamaServerErrors.Classify"/>).</param>
/// <param name="CircuitOpen">The backend's breaker refused the send: resending to it fails the same way.</param>
/// <param name="OutputStarted">The client was shown part of this attempt: another would repeat it.</param>
/// <param name="RetriesLeft">Requests llama-server may still receive beyond the first (<c>MaxRetries</c> less those sent).</param>
/// <param name="AnotherBackend">A backend this request has not failed on is there.</param>
/// <param name="CanReparseRaw">The raw re-parse was not tried yet and the request can ask for raw output.</param>
/// <param name="CanRepairHistory">The history repair was not tried yet and the history has something to repair.</param>
/// <param name="CanContinue">The client was shown reasoning and nothing else, and the continuation was not tried yet.</param>
internal readonly record struct RetryFacts(
    UpstreamErrorKind Kind,
    bool CircuitOpen,
    bool OutputStarted,
    int RetriesLeft,
    bool AnotherBackend,
    bool CanReparseRaw,
    bool CanRepairHistory,
    bool CanContinue = false);

/// <summary>
/// The one retry decision (DESIGN.md, "One retry budget"): every resend, move and recovery of a
/// completion, and every resend of a route passed through, is decided here, by the one retry
/// strategy (<see cref="ForwarderRetry"/>) whose budget is <c>MaxRetries</c>.
/// </summary>
internal static class RetryDecision
{
    /// <summary>
    /// Never past the budget, nor after output (it would be shown twice) but to continue a turn
    /// llama-server's parser broke while the client read its reasoning; a failure of llama-server's
    /// own gpt-oss handling is avoided by asking differently, once each; a transient failure goes
    /// to another backend when there is one, else to the same one again (not through an open breaker);
    /// a deterministic failure is the answer.
    /// </summary>
    public static RetryAction Decide(in RetryFacts facts) => facts switch
    {
        { RetriesLeft: <= 0 } => RetryAction.Stop,
        { OutputStarted: true, Kind: UpstreamErrorKind.ParseFailure, CanContinue: true } => RetryAction.Continue,
        { OutputStarted: true } => RetryAction.Stop,
        { Kind: UpstreamErrorKind.ParseFailure, CanReparseRaw: true } => RetryAction.RawReparse,
        { Kind: UpstreamErrorKind.TemplateHistory, CanRepairHistory: true } => RetryAction.HistoryRepair,
        { Kind: UpstreamErrorKind.Transient, AnotherBackend: true } => RetryAction.AnotherBackend,
        { Kind: UpstreamErrorKind.Transient, CircuitOpen: false } => RetryAction.Resend,
        _ => RetryAction.Stop,
    };
}
