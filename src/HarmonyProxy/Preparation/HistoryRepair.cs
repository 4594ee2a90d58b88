using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Preparation;

/// <summary>
/// Rewrites of a conversation's assistant history that the gpt-oss chat template would reject
/// (llama-server.md §2.6). <see cref="CleanLeakedMarkup"/> runs on every request (when
/// <c>Requests:CleanHistory</c> is on); <see cref="RepairForTemplate"/> runs only after
/// llama-server's template named a history problem.
/// </summary>
internal static class HistoryRepair
{
    /// <summary>
    /// Assistant messages whose content is a leaked transcript (a client stored a raw or
    /// stripped answer, <see cref="LeakedTranscript"/>) are reduced to their final text; their
    /// analysis survives as <c>reasoning_content</c> only across a tool-call round trip, as
    /// Harmony wants. Answers that quote tags in prose or code reach llama-server unchanged.
    /// </summary>
    /// <returns>How many messages were rewritten.</returns>
    public static int CleanLeakedMarkup(JsonArray messages) => Clean(messages, onlyLeaked: true);

    private static int Clean(JsonArray messages, bool onlyLeaked)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var cleaned = 0;
        foreach (var message in AssistantMessages(messages))
        {
            var hasToolCalls = HasToolCalls(message);
            var text = TextOf(message["content"]);
            if (text is null)
            {
                if (!hasToolCalls)
                {
                    // llama-server needs content or tool_calls on an assistant message.
                    message["content"] = string.Empty;
                }

                continue;
            }

            if (!LeakedTranscript.IsLeaked(text) && (onlyLeaked || !HarmonyTags.ContainsAny(text)))
            {
                continue;
            }

            var turn = HarmonyTurnCollector.Parse(text);
            message["content"] = turn.Content ?? string.Empty;
            if (hasToolCalls && turn.Reasoning is { Length: > 0 } reasoning && !message.ContainsKey("reasoning_content"))
            {
                message["reasoning_content"] = reasoning;
            }

            cleaned++;
        }

        return cleaned;
    }

    /// <summary>
    /// Everything the gpt-oss template refuses, repaired: markup in content (reduced to the final
    /// text, whatever <c>Requests:CleanHistory</c> says), markup in the reasoning fields (reduced
    /// to the reasoning text), and a tool-call message with both content and reasoning ("Cannot
    /// pass both content and thinking", llama.cpp #19701): its content goes, as in llama.cpp's
    /// own fix, because the reasoning is what the model needs to continue its tool loop.
    /// </summary>
    /// <returns>How many messages were rewritten; 0 when nothing needed repair.</returns>
    public static int RepairForTemplate(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        // The template refused the history: any markup goes, quoted or not.
        var repaired = Clean(messages, onlyLeaked: false);
        foreach (var message in AssistantMessages(messages))
        {
            var changed = false;
            foreach (var field in ReasoningFields)
            {
                if (message[field] is JsonValue value && value.GetValueKind() == JsonValueKind.String && HarmonyTags.ContainsAny(value.GetValue<string>()))
                {
                    var turn = HarmonyTurnCollector.Parse(value.GetValue<string>());
                    message[field] = turn.Reasoning ?? turn.Content ?? string.Empty;
                    changed = true;
                }
            }

            if (HasToolCalls(message) && !string.IsNullOrEmpty(TextOf(message["content"])) && ReasoningFields.Any(field => !string.IsNullOrEmpty(TextOf(message[field]))))
            {
                message["content"] = null;
                changed = true;
            }

            repaired += changed ? 1 : 0;
        }

        return repaired;
    }

    /// <summary>The names clients give an assistant message's reasoning that llama-server renders as <c>thinking</c>.</summary>
    private static readonly string[] ReasoningFields = ["reasoning_content", "thinking"];

    private static IEnumerable<JsonObject> AssistantMessages(JsonArray messages) =>
        messages.OfType<JsonObject>().Where(static message => message["role"] is JsonValue role && role.GetValueKind() == JsonValueKind.String && role.GetValue<string>() == "assistant");

    private static bool HasToolCalls(JsonObject message) => message["tool_calls"] is JsonArray { Count: > 0 };

    private static string? TextOf(JsonNode? content) => content switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.OfType<JsonObject>().Select(part => part["text"] is JsonValue partText && partText.GetValueKind() == JsonValueKind.String ? partText.GetValue<string>() : string.Empty)),
        _ => null,
    };
}
