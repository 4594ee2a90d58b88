using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Preparation.Responses;

/// <summary>
/// A Responses conversation's input items as chat messages: user, system and developer messages
/// as they are; an assistant turn's reasoning, text and calls gathered into one assistant message
/// (reasoning from its sealed blob, else its text); tool outputs as <c>tool</c> messages. Items
/// llama-server has nothing to render them as are left out and reported.
/// </summary>
internal sealed class ResponsesHistory(JsonArray messages, Func<string, string?> unseal)
{
    private JsonObject? _assistant;
    private readonly StringBuilder _reasoning = new();

    public List<string> Omitted { get; } = [];

    public int UnreadableReasoning { get; private set; }

    public bool Add(JsonObject item, out string? problem)
    {
        problem = null;
        var type = JsonProperties.String(item["type"]) ?? (item.ContainsKey("role") ? "message" : null);
        switch (type)
        {
            case "message":
                return AddMessage(item, out problem);
            case "reasoning":
                if (_assistant is { } open && (open.ContainsKey("tool_calls") || open.ContainsKey("content")))
                {
                    Flush();
                }

                AppendReasoning(item);
                return true;
            case "function_call" or "custom_tool_call":
                return AddCall(item, custom: type == "custom_tool_call", out problem);
            case "function_call_output" or "custom_tool_call_output":
                if (JsonProperties.String(item["call_id"]) is not { } callId)
                {
                    problem = $"A '{type}' item needs a string 'call_id'.";
                    return false;
                }

                Flush();
                messages.AddNode(new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = PlainText(item["output"]) });
                return true;
            default:
                Omitted.Add(type ?? "untyped");
                return true;
        }
    }

    /// <summary>Ends the assistant message being gathered.</summary>
    public void Flush()
    {
        if (_assistant is null && _reasoning.Length == 0)
        {
            return;
        }

        var message = _assistant ?? new JsonObject { ["role"] = "assistant" };
        if (!message.ContainsKey("content"))
        {
            message["content"] = null;
        }

        if (_reasoning.Length > 0)
        {
            message[ReasoningRetention.Field] = _reasoning.ToString();
        }

        messages.AddNode(message);
        _assistant = null;
        _reasoning.Clear();
    }

    private bool AddMessage(JsonObject item, out string? problem)
    {
        problem = null;
        var role = JsonProperties.String(item["role"]);
        if (role is not ("user" or "system" or "developer" or "assistant"))
        {
            problem = "A message item needs 'role' user, system, developer or assistant.";
            return false;
        }

        var content = item["content"];
        if (content is not (JsonArray or JsonValue) || (content is JsonValue value && value.GetValueKind() != JsonValueKind.String))
        {
            problem = "A message item's 'content' must be a string or an array of content parts.";
            return false;
        }

        if (role != "assistant")
        {
            Flush();
            messages.AddNode(new JsonObject { ["role"] = role, ["content"] = ChatContent(content) });
            return true;
        }

        if (_assistant is { } open && open.ContainsKey("tool_calls"))
        {
            Flush();
        }

        _assistant ??= new JsonObject { ["role"] = "assistant" };
        var text = PlainText(content);
        _assistant["content"] = JsonProperties.String(_assistant["content"]) is { } earlier ? earlier + text : text;
        return true;
    }

    private bool AddCall(JsonObject item, bool custom, out string? problem)
    {
        problem = null;
        var callId = JsonProperties.String(item["call_id"]);
        var name = JsonProperties.String(item["name"]);
        if (callId is null || name is null)
        {
            problem = $"A '{(custom ? "custom_tool_call" : "function_call")}' item needs string 'call_id' and 'name'.";
            return false;
        }

        var arguments = custom
            ? new JsonObject { [ResponsesTools.CustomInputParameter] = JsonProperties.String(item["input"]) ?? string.Empty }.ToJsonString(OpenAiJson.SerializerOptions)
            : JsonProperties.String(item["arguments"]) ?? "{}";
        _assistant ??= new JsonObject { ["role"] = "assistant" };
        if (_assistant["tool_calls"] is not JsonArray calls)
        {
            calls = [];
            _assistant["tool_calls"] = calls;
        }

        calls.AddNode(new JsonObject
        {
            ["id"] = callId,
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = ResponsesTools.ChatName(name, JsonProperties.String(item["namespace"])),
                ["arguments"] = arguments,
            },
        });
        return true;
    }

    /// <summary>The sealed blob when it opens, else the item's own reasoning text.</summary>
    private void AppendReasoning(JsonObject item)
    {
        string? text = null;
        if (JsonProperties.String(item["encrypted_content"]) is { Length: > 0 } sealedText)
        {
            text = unseal(sealedText);
            if (text is null)
            {
                UnreadableReasoning++;
            }
        }

        text ??= PlainText(item["content"] is JsonArray { Count: > 0 } content ? content : item["summary"]);
        if (text.Length == 0)
        {
            return;
        }

        if (_reasoning.Length > 0)
        {
            _reasoning.Append('\n');
        }

        _reasoning.Append(text);
    }

    /// <summary>A user-side message's content: text parts joined into one string; with images, chat content parts.</summary>
    private static JsonNode? ChatContent(JsonNode? content)
    {
        if (content is not JsonArray parts || !parts.OfType<JsonObject>().Any(part => JsonProperties.String(part["type"]) == "input_image"))
        {
            return PlainText(content);
        }

        var chatParts = new JsonArray();
        foreach (var part in parts.OfType<JsonObject>())
        {
            if (JsonProperties.String(part["type"]) == "input_image" && JsonProperties.String(part["image_url"]) is { } url)
            {
                chatParts.AddNode(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
            }
            else if (PartText(part) is { } text)
            {
                chatParts.AddNode(new JsonObject { ["type"] = "text", ["text"] = text });
            }
        }

        return chatParts;
    }

    /// <summary>The text of a string or of content parts (input_text, output_text, reasoning_text, summary_text, refusal), joined.</summary>
    private static string PlainText(JsonNode? content)
    {
        if (JsonProperties.String(content) is { } text)
        {
            return text;
        }

        var builder = new StringBuilder();
        foreach (var part in (content as JsonArray ?? []).OfType<JsonObject>())
        {
            if (PartText(part) is { } partText)
            {
                if (builder.Length > 0)
                {
                    builder.Append('\n');
                }

                builder.Append(partText);
            }
        }

        return builder.ToString();
    }

    private static string? PartText(JsonObject part) =>
        JsonProperties.String(part["text"]) ?? JsonProperties.String(part["refusal"]);
}
