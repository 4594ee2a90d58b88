using HarmonyProxy.Harmony;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Completions;

/// <summary>A finished turn as OpenAI sees it: content, reasoning, tool calls and finish reason.</summary>
internal sealed record CompletedTurn(
    string? Content,
    string? Reasoning,
    IReadOnlyList<HarmonyToolCall> ToolCalls,
    FinishReason FinishReason)
{
    /// <summary>
    /// Applies docs/harmony-format.md section 5 to a collected turn: finish is <c>length</c> if upstream said
    /// so, else <c>tool_calls</c> when a call was made, else <c>stop</c>. A call cut by
    /// <c>length</c> stays, with its arguments as far as they came: one rule for streamed and
    /// whole responses, as OpenAI does (the finish tells the client the call is incomplete).
    /// </summary>
    public static CompletedTurn From(HarmonyTurnCollector collector, bool truncated)
    {
        ArgumentNullException.ThrowIfNull(collector);
        return new CompletedTurn(collector.Content, collector.Reasoning, collector.ToolCalls, FinishReasonFor(truncated, collector.ToolCalls.Count > 0));
    }

    /// <summary>docs/harmony-format.md section 5: <c>length</c> wins, then <c>tool_calls</c>, else <c>stop</c>.</summary>
    public static FinishReason FinishReasonFor(bool truncated, bool madeToolCall) =>
        truncated ? FinishReason.Length : madeToolCall ? FinishReason.ToolCalls : FinishReason.Stop;
}
