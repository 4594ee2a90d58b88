using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation.Messages;

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
/// completion request: the turns through <see cref="MessagesHistory"/>; tools, tool choice,
/// sampling, stops and thinking take their chat names. Fields llama-server has no use for (<c>cache_control</c>, <c>context_management</c>,
/// <c>metadata</c>, betas) are accepted and ignored. Pure: JSON in, JSON out.
/// </summary>
internal static class MessagesRequestMapper
{
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

        var history = new MessagesHistory(unseal);
        history.AddSystem(request["system"]);
        var turns = (JsonArray)request["messages"]!;
        for (var i = 0; i < turns.Count; i++)
        {
            if (!history.Add((JsonObject)turns[i]!, $"messages[{i}].content", out problem))
            {
                return null;
            }
        }

        var messages = history.Finish();
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
        return new MessagesRequest(chat, stream, omitThinking, history.UnreadableThinking, omittedTools, history.HasImages);
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
