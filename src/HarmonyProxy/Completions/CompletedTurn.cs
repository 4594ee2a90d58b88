using System.Text.Json;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Completions;

/// <summary>A finished turn as OpenAI sees it: content, reasoning, tool calls and finish reason.</summary>
public sealed record CompletedTurn(
    string? Content,
    string? Reasoning,
    IReadOnlyList<HarmonyToolCall> ToolCalls,
    string FinishReason)
{
    /// <summary>
    /// Applies harmony.md sections 5 and 7 to a collected turn: a call cut by <c>length</c> whose
    /// arguments are not valid JSON is dropped; finish is <c>length</c> if upstream said so,
    /// else <c>tool_calls</c> when a call was made, else <c>stop</c>.
    /// </summary>
    public static CompletedTurn From(HarmonyTurnCollector collector, bool truncated)
    {
        ArgumentNullException.ThrowIfNull(collector);
        var toolCalls = collector.ToolCalls
            .Where(static call => call.Complete || IsValidJson(call.Arguments))
            .ToList();

        return new CompletedTurn(collector.Content, collector.Reasoning, toolCalls, FinishReasonFor(truncated, toolCalls.Count > 0));
    }

    /// <summary>harmony.md section 5: <c>length</c> wins, then <c>tool_calls</c>, else <c>stop</c>.</summary>
    public static string FinishReasonFor(bool truncated, bool madeToolCall) =>
        truncated ? "length" : madeToolCall ? "tool_calls" : "stop";

    public static bool IsValidJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
