using HarmonyProxy.Harmony;

namespace HarmonyProxy.Diagnostics;

/// <summary>
/// How one request to a completion API ended: the one ending value, after YARP's
/// <c>IForwarderErrorFeature</c>. The forwarder decides it where things happen; a request refused
/// before the forwarder (400, 401, 413, 429) or passed through to another llama-server route gets
/// one too. Set on the request (<see cref="ICompletionResultFeature"/>) and turned into the status
/// line, the metrics and the span by one reporter (<see cref="CompletionReporter"/>).
/// </summary>
internal sealed record CompletionResult
{
    public required string RequestId { get; init; }

    /// <summary><c>chat_completions</c>, <c>responses</c>, <c>messages</c>, <c>messages_count_tokens</c> or <c>pass_through</c>.</summary>
    public required string Endpoint { get; init; }

    public CompletionOutcome Outcome { get; init; }

    /// <summary>The HTTP status the client got (200 for a stream that ended with an error event).</summary>
    public int Status { get; init; }

    /// <summary>The error code the client got (OpenAI's <c>code</c>), or null when it ended well.</summary>
    public string? FailureCode { get; init; }

    public string? Model { get; init; }

    /// <summary>Null when the request was refused before it was read far enough to know.</summary>
    public bool? Stream { get; init; }

    /// <summary>The client profile its headers matched (<c>unknown</c> when none did), or null when not looked at.</summary>
    public string? Client { get; init; }

    /// <summary>Every request llama-server received for this one, in order: what failed and what was done about it.</summary>
    public IReadOnlyList<AttemptRecord> AttemptLog { get; init; } = [];

    /// <summary>Requests llama-server received (resends, moves and recoveries included).</summary>
    public int Attempts => AttemptLog.Count;

    /// <summary>The backend of the last attempt, or null when none was sent.</summary>
    public string? Backend => AttemptLog.Count > 0 ? AttemptLog[^1].Backend : null;

    /// <summary>The recoveries tried (<c>raw_reparse</c>, <c>history_repair</c>, joined by <c>+</c>), or null.</summary>
    public string? Recovery { get; init; }

    public WatchdogKind Watchdog { get; init; }

    /// <summary>Seconds to the first delta beyond the role, when one went out.</summary>
    public double? TimeToFirstToken { get; init; }

    public double DurationSeconds { get; init; }

    public int ContentChunks { get; init; }

    public int ReasoningChunks { get; init; }

    public int ToolCalls { get; init; }

    public int DroppedToolCalls { get; init; }

    public bool FallbackUsed { get; init; }

    public string? FinishReason { get; init; }

    public HarmonyParseFlags ParseFlags { get; init; }

    /// <summary>raw, stripped or parsed, once llama-server's output was read.</summary>
    public string? UpstreamFlavour { get; init; }

    /// <summary>From llama-server's usage, when it sent one.</summary>
    public (long Prompt, long Completion)? Tokens { get; init; }

    /// <summary>The <c>stream</c> label of the request metrics.</summary>
    public string StreamLabel => Stream switch { true => "true", false => "false", null => "unknown" };
}

/// <summary>One request llama-server received, and what its end led to.</summary>
/// <param name="Number">1 for the first send.</param>
/// <param name="Backend">The backend it went to.</param>
/// <param name="Recovery">The recovery this request was (<c>raw_reparse</c>, <c>history_repair</c>), or null.</param>
/// <param name="Failure">Why it failed, as a low-cardinality reason (<c>status_503</c>, <c>connection</c>, <c>first_byte_timeout</c>, <c>circuit_open</c>, <c>stream_broken_before_output</c>…), or null when it completed or ended otherwise.</param>
/// <param name="Next">What the proxy did next: <c>resend</c>, <c>another_backend</c>, a recovery's kind, or null (it ended there).</param>
/// <param name="Completed">The attempt gave the client its whole answer.</param>
internal sealed record AttemptRecord(int Number, string Backend, string? Recovery, string? Failure, string? Next, bool Completed);

/// <summary>The request feature that carries the ending value to middleware that runs after the handler.</summary>
internal interface ICompletionResultFeature
{
    CompletionResult Result { get; }
}

/// <inheritdoc cref="ICompletionResultFeature"/>
internal sealed record CompletionResultFeature(CompletionResult Result) : ICompletionResultFeature;
