using HarmonyProxy.Harmony;

namespace HarmonyProxy.Diagnostics;

/// <summary>
/// Everything one completion request leaves for metrics, the summary log line, the request
/// feature and the trace: built once when the response has ended, reported from one place
/// (<c>CompletionServices</c>).
/// </summary>
internal sealed record CompletionSummary
{
    public required string RequestId { get; init; }

    /// <summary><c>chat_completions</c> or <c>responses</c>.</summary>
    public required string Endpoint { get; init; }

    public string? Model { get; init; }

    public bool Stream { get; init; }

    public int Status { get; init; }

    public CompletionOutcome Outcome { get; init; }

    /// <summary>Requests llama-server received (every layer's tries and recoveries).</summary>
    public int Attempts { get; init; }

    public string? Recovery { get; init; }

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

    /// <summary>From llama-server's usage, when it sent one.</summary>
    public (long Prompt, long Completion)? Tokens { get; init; }

    /// <summary>The <c>stream</c> label of the request metrics.</summary>
    public string StreamLabel => Stream ? "true" : "false";
}
