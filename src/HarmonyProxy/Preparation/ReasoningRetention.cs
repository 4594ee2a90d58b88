using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// Harmony's rule for the chain of thought in a conversation's history (OpenAI's gpt-oss
/// guidance): the reasoning of the tool-call turns since the last final answer is kept, so the
/// model sees why it called the tools it is now reading the results of; reasoning of turns up to
/// and including a final answer is dropped. An assistant message that keeps its reasoning and has
/// tool calls carries no separate text: the gpt-oss template refuses content and thinking together
/// on a tool-call message (llama.cpp #19701), so its text joins the reasoning instead of being lost.
/// </summary>
internal static class ReasoningRetention
{
    public const string Field = "reasoning_content";

    /// <summary>Applies the rule to chat <paramref name="messages"/>; returns how many messages keep reasoning and how many lost it.</summary>
    public static (int Kept, int Dropped) Apply(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var lastFinal = LastFinalAnswer(messages);
        var kept = 0;
        var dropped = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            if (!IsAssistant(messages[i]))
            {
                continue;
            }

            var message = (JsonObject)messages[i]!;
            var reasoning = JsonProperties.String(message[Field]);
            if (string.IsNullOrEmpty(reasoning) || i < lastFinal || !HasToolCalls(message))
            {
                dropped += string.IsNullOrEmpty(reasoning) ? 0 : 1;
                message.Remove(Field);
                continue;
            }

            kept++;
            if (JsonProperties.String(message["content"]) is { Length: > 0 } content)
            {
                message[Field] = reasoning + "\n\n" + content;
                message["content"] = null;
            }
        }

        return (kept, dropped);
    }

    /// <summary>The index of the last assistant message without tool calls (a final answer), or -1.</summary>
    public static int LastFinalAnswer(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var lastFinal = -1;
        for (var i = 0; i < messages.Count; i++)
        {
            if (IsAssistant(messages[i]) && !HasToolCalls((JsonObject)messages[i]!))
            {
                lastFinal = i;
            }
        }

        return lastFinal;
    }

    /// <summary>An assistant message that called tools: the turns whose reasoning the rule may keep.</summary>
    public static bool IsToolCallTurn(JsonNode? node) => IsAssistant(node) && HasToolCalls((JsonObject)node!);

    private static bool IsAssistant(JsonNode? node) =>
        node is JsonObject message && JsonProperties.String(message["role"]) == "assistant";

    private static bool HasToolCalls(JsonObject message) => message["tool_calls"] is JsonArray { Count: > 0 };
}
