using System.Text.Json;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Completions;

/// <summary>A finished turn as OpenAI sees it: content, reasoning, tool calls and finish reason.</summary>
public sealed record CompletedTurn(
    string? Content,
    string? Reasoning,
    IReadOnlyList<HarmonyToolCall> ToolCalls,
    string FinishReason,
    bool FallbackUsed)
{
    /// <summary>
    /// Applies harmony.md sections 5 and 7 to a collected turn: a call cut by <c>length</c> whose
    /// arguments are not valid JSON is dropped; finish is <c>length</c> if upstream said so,
    /// else <c>tool_calls</c> when a call was made, else <c>stop</c>. When the turn has no
    /// visible text and no call, <see cref="HarmonyFallback"/> recovers the answer from
    /// <paramref name="rawText"/>.
    /// </summary>
    public static CompletedTurn From(HarmonyTurnCollector collector, bool truncated, string? rawText = null)
    {
        ArgumentNullException.ThrowIfNull(collector);
        var toolCalls = collector.ToolCalls
            .Where(static call => call.Complete || IsValidJson(call.Arguments))
            .ToList();

        var content = collector.Content;
        var fallbackUsed = false;
        if (string.IsNullOrEmpty(content) && toolCalls.Count == 0 && rawText is not null)
        {
            var recovered = HarmonyFallback.ExtractFinalText(rawText);
            if (recovered is not null)
            {
                content = recovered;
                fallbackUsed = true;
            }
        }

        return new CompletedTurn(content, collector.Reasoning, toolCalls, FinishReasonFor(truncated, toolCalls.Count > 0), fallbackUsed);
    }

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
