using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Diagnostics;

/// <summary>How one completion request ended (YARP's <c>ForwarderError</c> is the model): one value per request.</summary>
internal enum CompletionOutcome
{
    Ok,

    /// <summary>The request was refused before llama-server was asked (400, 413).</summary>
    ClientError,

    /// <summary>No slot and the queue was full (429).</summary>
    Rejected,

    /// <summary>llama-server could not be reached (connection refused, reset before headers, DNS).</summary>
    UpstreamUnreachable,

    /// <summary>llama-server answered with an error status.</summary>
    UpstreamStatus,

    /// <summary>The backend's circuit breaker was open.</summary>
    CircuitOpen,

    /// <summary>No response headers within the first-byte timeout.</summary>
    FirstByteTimeout,

    /// <summary>The stream broke (error event, lost connection, early end) before anything the client can see.</summary>
    BrokeBeforeOutput,

    /// <summary>The stream broke after output: the client got one error ending.</summary>
    BrokeAfterOutput,

    /// <summary>Watchdog: no upstream event for the idle limit.</summary>
    IdleTimeout,

    /// <summary>Watchdog: hidden reasoning only, past its limit.</summary>
    NoVisibleOutput,

    /// <summary>Watchdog: the request's total ceiling.</summary>
    TotalTimeout,

    /// <summary>The loop guard: the reasoning kept repeating itself.</summary>
    ReasoningLoop,

    /// <summary>The proxy was shutting down and the drain time was over.</summary>
    ShuttingDown,

    /// <summary>The client went away.</summary>
    ClientAborted,
}

/// <summary>What was seen when an attempt failed, recorded where it happened and classified once at the end.</summary>
/// <param name="Exception">What the send or the relay threw, if anything.</param>
/// <param name="UpstreamStatus">llama-server's error status, when it answered with one.</param>
/// <param name="Watchdog">The watchdog that ended the generation, if one did.</param>
/// <param name="ClientGone">The client's connection was gone.</param>
/// <param name="AfterHeaders">llama-server's response had started (the failure was in its stream).</param>
/// <param name="OutputStarted">The client had been sent reasoning, text or a tool call.</param>
internal readonly record struct CompletionEnding(Exception? Exception, int? UpstreamStatus, WatchdogKind Watchdog, bool ClientGone, bool AfterHeaders, bool OutputStarted);

/// <summary>The one classification of endings, and the names outcomes take in metrics and logs.</summary>
internal static class CompletionOutcomes
{
    /// <summary>Pure: the client first, then a watchdog, then what llama-server did.</summary>
    public static CompletionOutcome Classify(CompletionEnding ending) => ending switch
    {
        { ClientGone: true } => CompletionOutcome.ClientAborted,
        { Watchdog: WatchdogKind.Idle } => CompletionOutcome.IdleTimeout,
        { Watchdog: WatchdogKind.NoVisibleOutput } => CompletionOutcome.NoVisibleOutput,
        { Watchdog: WatchdogKind.Total } => CompletionOutcome.TotalTimeout,
        { Watchdog: WatchdogKind.ReasoningLoop } => CompletionOutcome.ReasoningLoop,
        { Watchdog: WatchdogKind.Shutdown } => CompletionOutcome.ShuttingDown,
        { Exception: BrokenCircuitException } => CompletionOutcome.CircuitOpen,
        { Exception: TimeoutRejectedException } => CompletionOutcome.FirstByteTimeout,
        { UpstreamStatus: not null, AfterHeaders: false } => CompletionOutcome.UpstreamStatus,
        { AfterHeaders: false, Exception: not null } => CompletionOutcome.UpstreamUnreachable,
        { OutputStarted: true } => CompletionOutcome.BrokeAfterOutput,
        _ => CompletionOutcome.BrokeBeforeOutput,
    };

    /// <summary>The <c>outcome</c> label of <c>harmony_proxy_requests_total</c>: the coarse set dashboards and alerts use.</summary>
    public static string MetricLabel(this CompletionOutcome outcome) => outcome switch
    {
        CompletionOutcome.Ok => "ok",
        CompletionOutcome.ClientError => "client_error",
        CompletionOutcome.Rejected => "rejected",
        CompletionOutcome.ClientAborted => "client_cancelled",
        CompletionOutcome.IdleTimeout or CompletionOutcome.NoVisibleOutput or CompletionOutcome.TotalTimeout
            or CompletionOutcome.ReasoningLoop or CompletionOutcome.ShuttingDown => "watchdog",
        _ => "upstream_error",
    };

    /// <summary>The outcome's own name, in the summary log line, the request feature and traces.</summary>
    public static string Name(this CompletionOutcome outcome) => outcome switch
    {
        CompletionOutcome.Ok => "ok",
        CompletionOutcome.ClientError => "client_error",
        CompletionOutcome.Rejected => "rejected",
        CompletionOutcome.UpstreamUnreachable => "upstream_unreachable",
        CompletionOutcome.UpstreamStatus => "upstream_status",
        CompletionOutcome.CircuitOpen => "circuit_open",
        CompletionOutcome.FirstByteTimeout => "first_byte_timeout",
        CompletionOutcome.BrokeBeforeOutput => "broke_before_output",
        CompletionOutcome.BrokeAfterOutput => "broke_after_output",
        CompletionOutcome.IdleTimeout => "idle_timeout",
        CompletionOutcome.NoVisibleOutput => "no_visible_output",
        CompletionOutcome.TotalTimeout => "total_timeout",
        CompletionOutcome.ReasoningLoop => "reasoning_loop",
        CompletionOutcome.ShuttingDown => "shutting_down",
        _ => "client_aborted",
    };
}
