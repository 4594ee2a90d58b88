using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Requests;

namespace HarmonyProxy.Messages;

/// <summary>An Anthropic Messages request mapped to the one chat request, and what the response needs of it.</summary>
/// <param name="ChatRequest">The chat completion request llama-server is sent (before preparation).</param>
/// <param name="Stream">The client asked for SSE.</param>
/// <param name="OmitThinking">Thinking was asked with <c>display: omitted</c>: blocks carry their signature, not their text.</param>
/// <param name="UnreadableThinking">Thinking blocks sent back whose signature did not open (ignored).</param>
/// <param name="OmittedTools">Server tools (web search, code execution…) llama-server cannot run, left out.</param>
/// <param name="HasImages">Some user turn holds an image block.</param>
internal sealed record MessagesRequest(JsonObject ChatRequest, bool Stream, bool OmitThinking, int UnreadableThinking, IReadOnlyList<string> OmittedTools, bool HasImages);

/// <summary>
/// Turns an Anthropic Messages request (Claude Code, the Anthropic SDKs) into the one chat
/// completion request: <c>system</c> (string or text blocks, and <c>system</c> turns inside
/// <c>messages</c>) becomes one system message without Claude Code's per-request attribution
/// line; an assistant turn's <c>thinking</c> (read back from its signature), <c>text</c> and
/// <c>tool_use</c> blocks one assistant message; <c>tool_result</c> blocks <c>tool</c> messages;
/// <c>image</c> blocks image parts; tools, tool choice, sampling, stops and thinking take their
/// chat names. Fields llama-server has no use for (<c>cache_control</c>, <c>context_management</c>,
/// <c>metadata</c>, betas) are accepted and ignored. Pure: JSON in, JSON out.
/// </summary>
internal static class MessagesRequestMapper
{
    /// <summary>The line Claude Code puts first in its system prompt, different on every request: kept, it would defeat llama-server's prompt cache.</summary>
    public const string AttributionPrefix = "x-anthropic-billing-header:";

    /// <param name="request">The client's body.</param>
    /// <param name="unseal">Reads a thinking block's signature back into its text; null when it does not open.</param>
    /// <param name="sessionId">Claude Code's <c>x-claude-code-session-id</c>, the conversation's affinity key when given.</param>
    public static MessagesRequest? Map(JsonObject request, Func<string, string?> unseal, string? sessionId, out RequestProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(unseal);
        problem = Validate(request);
        if (problem is not null)
        {
            return null;
        }

        var system = new StringBuilder();
        AppendSystem(system, request["system"]);
        var messages = new JsonArray();
        var unreadable = 0;
        var turns = (JsonArray)request["messages"]!;
        for (var i = 0; i < turns.Count; i++)
        {
            var turn = (JsonObject)turns[i]!;
            switch (JsonProperties.String(turn["role"]))
            {
                case "system":
                    AppendSystem(system, turn["content"]);
                    break;
                case "assistant":
                    messages.AddNode(Assistant(turn["content"], unseal, ref unreadable));
                    break;
                default:
                    if (User(turn["content"], messages, $"messages[{i}].content", out problem) is false)
                    {
                        return null;
                    }

                    break;
            }
        }

        if (system.Length > 0)
        {
            messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = system.ToString() });
        }

        var omittedTools = new List<string>();
        var chat = new JsonObject
        {
            ["model"] = request["model"]?.DeepClone(),
            ["messages"] = messages,
        };
        if (Tools(request["tools"] as JsonArray, omittedTools) is { Count: > 0 } tools)
        {
            chat["tools"] = tools;
            ToolChoice(request["tool_choice"] as JsonObject, chat);
        }

        foreach (var (from, to) in new[] { ("max_tokens", "max_tokens"), ("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"), ("stop_sequences", "stop") })
        {
            if (request[from] is { } value && value.GetValueKind() != JsonValueKind.Null)
            {
                chat[to] = value.DeepClone();
            }
        }

        if (Effort(request) is { } effort)
        {
            chat["reasoning_effort"] = effort;
        }

        if (sessionId is { Length: > 0 } || SessionOf(request["metadata"]) is not null)
        {
            // The conversation's key for backend affinity (and llama-server's own cache routing).
            chat["prompt_cache_key"] = sessionId is { Length: > 0 } ? sessionId : SessionOf(request["metadata"]);
        }

        var stream = request["stream"] is JsonValue flag && flag.GetValueKind() == JsonValueKind.True;
        chat["stream"] = stream;
        if (stream)
        {
            // Usage always: message_delta carries the output tokens.
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        var omitThinking = request["thinking"] is JsonObject thinking && JsonProperties.String(thinking["display"]) == "omitted";
        var hasImages = messages.OfType<JsonObject>().Any(message => message["content"] is JsonArray parts && parts.OfType<JsonObject>().Any(part => JsonProperties.String(part["type"]) == "image_url"));
        return new MessagesRequest(chat, stream, omitThinking, unreadable, omittedTools, hasImages);
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

    private static void AppendSystem(StringBuilder system, JsonNode? content)
    {
        foreach (var text in Texts(content))
        {
            var kept = WithoutAttribution(text);
            if (kept.Length == 0)
            {
                continue;
            }

            if (system.Length > 0)
            {
                system.Append("\n\n");
            }

            system.Append(kept);
        }
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
    private static bool User(JsonNode? content, JsonArray messages, string param, out RequestProblem? problem)
    {
        problem = null;
        if (JsonProperties.String(content) is { } text)
        {
            messages.AddNode(new JsonObject { ["role"] = "user", ["content"] = text });
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
                        problem = Invalid($"{param}[{j}].source must be a base64 image (type, media_type, data) or a url.", $"{param}[{j}].source", "invalid_value");
                        return false;
                    }

                    parts.AddNode(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
                    break;
                case "tool_result":
                    var result = string.Join("\n", Texts(block["content"]));
                    messages.AddNode(new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = JsonProperties.String(block["tool_use_id"]),
                        ["content"] = block["is_error"] is JsonValue error && error.GetValueKind() == JsonValueKind.True ? "Error: " + result : result,
                    });
                    break;
                case "document":
                    problem = Invalid($"{param}[{j}]: document blocks are not supported: llama-server reads no files; send the document's text.", $"{param}[{j}]", "invalid_request_error");
                    return false;
                default:
                    // Blocks that carry nothing for the model (search results of server tools…) are left out.
                    break;
            }
        }

        if (parts.Count > 0)
        {
            var onlyText = parts.All(part => JsonProperties.String(part!["type"]) == "text");
            messages.AddNode(new JsonObject
            {
                ["role"] = "user",
                ["content"] = onlyText ? string.Join("\n", parts.Select(part => JsonProperties.String(part!["text"]))) : parts,
            });
        }

        return true;
    }

    /// <summary>An assistant turn: thinking (from its signature) as reasoning, text as content, tool_use as tool calls.</summary>
    private static JsonObject Assistant(JsonNode? content, Func<string, string?> unseal, ref int unreadable)
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
                        unreadable++;
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

    /// <summary>Client tools as chat functions (<c>input_schema</c> → <c>parameters</c>); server tools left out.</summary>
    private static JsonArray Tools(JsonArray? tools, List<string> omitted)
    {
        var chat = new JsonArray();
        foreach (var tool in (tools ?? []).OfType<JsonObject>())
        {
            var type = JsonProperties.String(tool["type"]);
            if (type is not (null or "custom") || JsonProperties.String(tool["name"]) is not { } name)
            {
                omitted.Add(type ?? "unnamed");
                continue;
            }

            var function = new JsonObject { ["name"] = name, ["parameters"] = tool["input_schema"]?.DeepClone() ?? new JsonObject { ["type"] = "object" } };
            if (JsonProperties.String(tool["description"]) is { } description)
            {
                function["description"] = description;
            }

            chat.AddNode(new JsonObject { ["type"] = "function", ["function"] = function });
        }

        return chat;
    }

    private static void ToolChoice(JsonObject? choice, JsonObject chat)
    {
        if (choice is null)
        {
            return;
        }

        chat["tool_choice"] = JsonProperties.String(choice["type"]) switch
        {
            "any" => "required",
            "none" => "none",
            "tool" when JsonProperties.String(choice["name"]) is { } name => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } },
            _ => "auto",
        };
        if (choice["disable_parallel_tool_use"] is JsonValue single && single.GetValueKind() == JsonValueKind.True)
        {
            chat["parallel_tool_calls"] = false;
        }
    }

    /// <summary><c>output_config.effort</c>, else a thinking budget in gpt-oss's three levels; gpt-oss cannot stop reasoning, so <c>disabled</c> is low.</summary>
    private static string? Effort(JsonObject request)
    {
        if (request["output_config"] is JsonObject config && JsonProperties.String(config["effort"]) is { } effort)
        {
            return effort is "max" ? "high" : ReasoningEffort.Normalize(effort);
        }

        if (request["thinking"] is not JsonObject thinking)
        {
            return null;
        }

        return JsonProperties.String(thinking["type"]) switch
        {
            "disabled" => "low",
            "enabled" when thinking["budget_tokens"] is JsonValue budget && budget.TryGetValue<long>(out var tokens) =>
                tokens < 4096 ? "low" : tokens < 16384 ? "medium" : "high",
            _ => null,
        };
    }

    /// <summary>The session in Claude Code's <c>metadata.user_id</c>: a JSON string with a <c>session_id</c>, or an id ending <c>_session_&lt;id&gt;</c>; else the whole id.</summary>
    private static string? SessionOf(JsonNode? metadata)
    {
        if (JsonProperties.String((metadata as JsonObject)?["user_id"]) is not { Length: > 0 } userId)
        {
            return null;
        }

        if (userId.StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(userId, documentOptions: OpenAiJson.DocumentOptions) is JsonObject parsed && JsonProperties.String(parsed["session_id"]) is { Length: > 0 } session)
                {
                    return session;
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: the whole id stands.
            }
        }

        var marker = userId.LastIndexOf("_session_", StringComparison.Ordinal);
        return marker >= 0 ? userId[(marker + "_session_".Length)..] : userId;
    }

    private static string? ImageUrl(JsonObject? source) => JsonProperties.String(source?["type"]) switch
    {
        "base64" when JsonProperties.String(source!["media_type"]) is { } mediaType && JsonProperties.String(source["data"]) is { } data => $"data:{mediaType};base64,{data}",
        "url" => JsonProperties.String(source!["url"]),
        _ => null,
    };

    private static RequestProblem? Validate(JsonObject request)
    {
        if (request["messages"] is not JsonArray { Count: > 0 } turns)
        {
            return Invalid("'messages' is required: a non-empty array of turns.", "messages", "invalid_request_error");
        }

        for (var i = 0; i < turns.Count; i++)
        {
            if (turns[i] is not JsonObject turn || JsonProperties.String(turn["role"]) is not ("user" or "assistant" or "system"))
            {
                return Invalid($"messages[{i}] must be an object with role user or assistant.", $"messages[{i}]", "invalid_request_error");
            }

            var content = turn["content"];
            if (JsonProperties.String(content) is null && (content is not JsonArray blocks || blocks.Any(block => block is not JsonObject || JsonProperties.String(block["type"]) is null)))
            {
                return Invalid($"messages[{i}].content must be a string or an array of content blocks with a 'type'.", $"messages[{i}].content", "invalid_request_error");
            }
        }

        if (request["system"] is { } system && system.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null))
        {
            return Invalid("'system' must be a string or an array of text blocks.", "system", "invalid_request_error");
        }

        if (request["tools"] is { } tools && tools.GetValueKind() is not (JsonValueKind.Array or JsonValueKind.Null))
        {
            return Invalid("'tools' must be an array.", "tools", "invalid_request_error");
        }

        if (request["stop_sequences"] is { } stops && stops.GetValueKind() != JsonValueKind.Null
            && (stops is not JsonArray stopList || stopList.Any(stop => stop?.GetValueKind() != JsonValueKind.String)))
        {
            return Invalid("'stop_sequences' must be an array of strings.", "stop_sequences", "invalid_request_error");
        }

        return RequestFields.String(request, "model")
            ?? RequestFields.Integer(request, "max_tokens", 1, int.MaxValue)
            ?? RequestFields.Number(request, "temperature", 0, 1)
            ?? RequestFields.Number(request, "top_p", 0, 1)
            ?? RequestFields.Integer(request, "top_k", 0, int.MaxValue)
            ?? RequestFields.Boolean(request, "stream");
    }

    private static RequestProblem Invalid(string message, string param, string code) => new(400, message, param, code);
}
