using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// Reasoning in an assistant message of the history, whatever the client called it, becomes the
/// <c>reasoning_content</c> llama-server renders into the analysis channel: <c>reasoning</c>
/// (OpenRouter, vLLM), <c>thinking</c> (Ollama), <c>reasoning_details</c> (OpenRouter's list of
/// <c>reasoning.text</c> entries), or a <c>&lt;think&gt;…&lt;/think&gt;</c> block at the start of
/// <c>content</c> (clients served with <c>think_tags</c>), which then leaves the content. The other
/// names are removed: the gpt-oss template reads <c>thinking</c> itself.
/// </summary>
internal static class ReasoningDialects
{
    private const string ThinkOpen = "<think>";
    private const string ThinkClose = "</think>";

    /// <summary>Normalizes every assistant message; returns how many carried reasoning under another name.</summary>
    public static int Normalize(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var moved = 0;
        foreach (var message in messages.OfType<JsonObject>())
        {
            if (JsonProperties.String(message["role"]) != "assistant")
            {
                continue;
            }

            var reasoning = JsonProperties.String(message[ReasoningRetention.Field]);
            var alias = JsonProperties.String(message["reasoning"]) ?? JsonProperties.String(message["thinking"]) ?? DetailsText(message["reasoning_details"]);
            var think = TakeThinkBlock(message);
            RemoveAliases(message);
            if (!string.IsNullOrEmpty(reasoning))
            {
                continue;
            }

            var found = !string.IsNullOrEmpty(alias) ? alias : think;
            if (!string.IsNullOrEmpty(found))
            {
                message[ReasoningRetention.Field] = found;
                moved++;
            }
        }

        return moved;
    }

    private static void RemoveAliases(JsonObject message)
    {
        if (message["reasoning"] is JsonValue)
        {
            message.Remove("reasoning");
        }

        if (message["thinking"] is JsonValue)
        {
            message.Remove("thinking");
        }

        if (message["reasoning_details"] is JsonArray)
        {
            message.Remove("reasoning_details");
        }
    }

    /// <summary>OpenRouter's <c>[{type:"reasoning.text", text}]</c> (and <c>reasoning.summary</c>'s <c>summary</c>), joined.</summary>
    private static string? DetailsText(JsonNode? details)
    {
        if (details is not JsonArray entries)
        {
            return null;
        }

        var text = new StringBuilder();
        foreach (var entry in entries.OfType<JsonObject>())
        {
            var piece = JsonProperties.String(entry["type"]) switch
            {
                "reasoning.text" => JsonProperties.String(entry["text"]),
                "reasoning.summary" => JsonProperties.String(entry["summary"]),
                _ => null,
            };
            if (!string.IsNullOrEmpty(piece))
            {
                text.Append(text.Length > 0 ? "\n" : string.Empty).Append(piece);
            }
        }

        return text.Length > 0 ? text.ToString() : null;
    }

    /// <summary>Removes a leading <c>&lt;think&gt;…&lt;/think&gt;</c> block from a string content and returns what it held.</summary>
    private static string? TakeThinkBlock(JsonObject message)
    {
        if (JsonProperties.String(message["content"]) is not { } content)
        {
            return null;
        }

        var start = content.AsSpan().TrimStart();
        if (!start.StartsWith(ThinkOpen, StringComparison.Ordinal))
        {
            return null;
        }

        var close = start.IndexOf(ThinkClose, StringComparison.Ordinal);
        if (close < 0)
        {
            return null;
        }

        var inner = start[ThinkOpen.Length..close].Trim().ToString();
        message["content"] = start[(close + ThinkClose.Length)..].TrimStart().ToString();
        return inner;
    }
}
