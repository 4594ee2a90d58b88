using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation.Messages;

/// <summary>
/// An Anthropic conversation's turns as chat messages: <c>system</c> (string or text blocks, and
/// <c>system</c> turns inside <c>messages</c>, wherever they stand) becomes one system message
/// without Claude Code's per-request attribution line; an assistant turn's <c>thinking</c> (read
/// back from its signature), <c>text</c> and <c>tool_use</c> blocks one assistant message;
/// <c>tool_result</c> blocks <c>tool</c> messages; <c>image</c> blocks image parts.
/// </summary>
/// <param name="unseal">Reads a thinking block's signature back into its text; null when it does not open.</param>
internal sealed class MessagesHistory(Func<string, string?> unseal)
{
    /// <summary>The line Claude Code puts first in its system prompt, different on every request: kept, it would defeat llama-server's prompt cache.</summary>
    public const string AttributionPrefix = "x-anthropic-billing-header:";

    private readonly StringBuilder _system = new();
    private readonly JsonArray _messages = [];

    /// <summary>Thinking blocks sent back whose signature did not open (ignored).</summary>
    public int UnreadableThinking { get; private set; }

    /// <summary>Some user turn holds an image block.</summary>
    public bool HasImages { get; private set; }

    public void AddSystem(JsonNode? content)
    {
        foreach (var text in Texts(content))
        {
            var kept = WithoutAttribution(text);
            if (kept.Length == 0)
            {
                continue;
            }

            if (_system.Length > 0)
            {
                _system.Append("\n\n");
            }

            _system.Append(kept);
        }
    }

    /// <summary>One turn; false with the problem when a block cannot be given to llama-server.</summary>
    public bool Add(JsonObject turn, string param, out RequestProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(turn);
        problem = null;
        switch (JsonProperties.String(turn["role"]))
        {
            case "system":
                AddSystem(turn["content"]);
                return true;
            case "assistant":
                _messages.AddNode(Assistant(turn["content"]));
                return true;
            default:
                return User(turn["content"], param, out problem);
        }
    }

    /// <summary>The chat messages, the one system message first.</summary>
    public JsonArray Finish()
    {
        if (_system.Length > 0)
        {
            _messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = _system.ToString() });
        }

        return _messages;
    }

    /// <summary>Removes Claude Code's attribution line from the start of a system text.</summary>
    public static string WithoutAttribution(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith(AttributionPrefix, StringComparison.Ordinal))
        {
            return text;
        }

        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? string.Empty : text[(end + 1)..];
    }

    /// <summary>A string, or the text of each text block.</summary>
    private static IEnumerable<string> Texts(JsonNode? content)
    {
        if (JsonProperties.String(content) is { } text)
        {
            yield return text;
            yield break;
        }

        foreach (var block in (content as JsonArray ?? []).OfType<JsonObject>())
        {
            if (JsonProperties.String(block["type"]) == "text" && JsonProperties.String(block["text"]) is { } blockText)
            {
                yield return blockText;
            }
        }
    }

    /// <summary>A user turn: its tool results first (they answer the previous turn's calls), then its text and images as one user message.</summary>
    private bool User(JsonNode? content, string param, out RequestProblem? problem)
    {
        problem = null;
        if (JsonProperties.String(content) is { } text)
        {
            _messages.AddNode(new JsonObject { ["role"] = "user", ["content"] = text });
            return true;
        }

        var parts = new JsonArray();
        var blocks = (JsonArray)content!;
        for (var j = 0; j < blocks.Count; j++)
        {
            var block = (JsonObject)blocks[j]!;
            switch (JsonProperties.String(block["type"]))
            {
                case "text":
                    parts.AddNode(new JsonObject { ["type"] = "text", ["text"] = JsonProperties.String(block["text"]) ?? string.Empty });
                    break;
                case "image":
                    if (ImageUrl(block["source"] as JsonObject) is not { } url)
                    {
                        problem = new RequestProblem(400, $"{param}[{j}].source must be a base64 image (type, media_type, data) or a url.", $"{param}[{j}].source", "invalid_value");
                        return false;
                    }

                    parts.AddNode(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
                    HasImages = true;
                    break;
                case "tool_result":
                    var result = string.Join("\n", Texts(block["content"]));
                    _messages.AddNode(new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = JsonProperties.String(block["tool_use_id"]),
                        ["content"] = block["is_error"] is JsonValue error && error.GetValueKind() == JsonValueKind.True ? "Error: " + result : result,
                    });
                    break;
                case "document":
                    problem = new RequestProblem(400, $"{param}[{j}]: document blocks are not supported: llama-server reads no files; send the document's text.", $"{param}[{j}]", "invalid_request_error");
                    return false;
                default:
                    // Blocks that carry nothing for the model (search results of server tools…) are left out.
                    break;
            }
        }

        if (parts.Count > 0)
        {
            var onlyText = parts.All(part => JsonProperties.String(part!["type"]) == "text");
            _messages.AddNode(new JsonObject
            {
                ["role"] = "user",
                ["content"] = onlyText ? string.Join("\n", parts.Select(part => JsonProperties.String(part!["text"]))) : parts,
            });
        }

        return true;
    }

    /// <summary>An assistant turn: thinking (from its signature) as reasoning, text as content, tool_use as tool calls.</summary>
    private JsonObject Assistant(JsonNode? content)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        if (JsonProperties.String(content) is { } text)
        {
            message["content"] = text;
            return message;
        }

        var answer = new StringBuilder();
        var reasoning = new StringBuilder();
        var calls = new JsonArray();
        foreach (var block in (content as JsonArray ?? []).OfType<JsonObject>())
        {
            switch (JsonProperties.String(block["type"]))
            {
                case "text":
                    answer.Append(JsonProperties.String(block["text"]));
                    break;
                case "thinking":
                    // Only what the proxy sealed is believed: the signature, never the text beside it.
                    if (JsonProperties.String(block["signature"]) is { Length: > 0 } signature && unseal(signature) is { } opened)
                    {
                        reasoning.Append(reasoning.Length > 0 ? "\n" : string.Empty).Append(opened);
                    }
                    else
                    {
                        UnreadableThinking++;
                    }

                    break;
                case "tool_use":
                    calls.AddNode(new JsonObject
                    {
                        ["id"] = JsonProperties.String(block["id"]),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = JsonProperties.String(block["name"]),
                            ["arguments"] = (block["input"] as JsonObject ?? []).ToJsonString(OpenAiJson.SerializerOptions),
                        },
                    });
                    break;
            }
        }

        message["content"] = answer.Length > 0 ? answer.ToString() : null;
        if (calls.Count > 0)
        {
            message["tool_calls"] = calls;
        }

        if (reasoning.Length > 0)
        {
            message[ReasoningRetention.Field] = reasoning.ToString();
        }

        return message;
    }

    private static string? ImageUrl(JsonObject? source) => JsonProperties.String(source?["type"]) switch
    {
        "base64" when JsonProperties.String(source!["media_type"]) is { } mediaType && JsonProperties.String(source["data"]) is { } data => $"data:{mediaType};base64,{data}",
        "url" => JsonProperties.String(source!["url"]),
        _ => null,
    };
}
