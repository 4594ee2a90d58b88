using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.OpenAi;

namespace HarmonyProxy.Responses;

/// <summary>
/// Turns a Responses API request into the one chat completion request llama-server understands:
/// <c>instructions</c> and the <c>input</c> items become messages (an assistant turn's reasoning,
/// text and calls join one assistant message; tool outputs become <c>tool</c> messages), tools
/// map through <see cref="ResponsesTools"/>, and the sampling and format options take their chat
/// names. Replayed reasoning is read from its sealed blob, else from its text; the request preparer
/// then applies Harmony's rule (<see cref="ReasoningRetention"/>). Pure: JSON in, JSON out.
/// </summary>
internal static class ResponsesRequestMapper
{
    /// <param name="request">The client's body.</param>
    /// <param name="previousConversation">The items of the stored response named by <c>previous_response_id</c> (its input and output), or null.</param>
    /// <param name="unseal">Reads a reasoning item's <c>encrypted_content</c>; null when it cannot (tampered, foreign, expired).</param>
    /// <param name="problem">Why the request is refused, or null.</param>
    public static ResponsesRequest? Map(JsonObject request, JsonArray? previousConversation, Func<string, string?> unseal, out RequestProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(unseal);
        problem = Validate(request);
        if (problem is not null)
        {
            return null;
        }

        var tools = ResponsesTools.FromRequest(request["tools"] as JsonArray, out var toolProblem);
        if (toolProblem is not null)
        {
            problem = Invalid(toolProblem, "tools", "invalid_value");
            return null;
        }

        var conversation = new JsonArray();
        foreach (var item in previousConversation ?? [])
        {
            conversation.Add(item?.DeepClone());
        }

        if (request["input"] is JsonValue text)
        {
            conversation.Add(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text.GetValue<string>() });
        }
        else
        {
            foreach (var item in (JsonArray)request["input"]!)
            {
                conversation.Add(item?.DeepClone());
            }
        }

        var messages = new JsonArray();
        if (JsonProperties.String(request["instructions"]) is { Length: > 0 } instructions)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        var history = new HistoryBuilder(messages, unseal);
        for (var i = 0; i < conversation.Count; i++)
        {
            if (!history.Add((JsonObject)conversation[i]!, out var itemProblem))
            {
                problem = Invalid(itemProblem!, $"input[{i}]", "invalid_value");
                return null;
            }
        }

        history.Flush();
        if (messages.Count == 0)
        {
            problem = Invalid("'input' must hold at least one message.", "input", "invalid_value");
            return null;
        }

        var chat = new JsonObject
        {
            ["model"] = request["model"]?.DeepClone(),
            ["messages"] = messages,
        };
        if (tools.ChatTools.Count > 0)
        {
            chat["tools"] = tools.ChatTools;
            chat["tool_choice"] = ChatToolChoice(request["tool_choice"]);
        }

        CopyOptions(request, chat);
        var stream = request["stream"] is JsonValue streamFlag && streamFlag.GetValueKind() == JsonValueKind.True;
        chat["stream"] = stream;
        if (stream)
        {
            // Usage always: response.completed carries it.
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        var include = request["include"] as JsonArray;
        return new ResponsesRequest(
            chat,
            tools,
            Stream: stream,
            Store: request["store"] is not JsonValue store || store.GetValueKind() != JsonValueKind.False,
            IncludeEncryptedReasoning: include?.Any(entry => JsonProperties.String(entry) == "reasoning.encrypted_content") == true,
            PreviousResponseId: JsonProperties.String(request["previous_response_id"]),
            Conversation: conversation,
            Echo: Echo(request),
            OmittedItems: history.Omitted,
            UnreadableReasoning: history.UnreadableReasoning);
    }

    private static RequestProblem? Validate(JsonObject request)
    {
        switch (request["input"])
        {
            case null:
                return Invalid("'input' is required: a string or an array of items.", "input", "missing_required_parameter");
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                break;
            case JsonArray items:
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is not JsonObject)
                    {
                        return Invalid($"input[{i}] must be an object.", $"input[{i}]", "invalid_type");
                    }
                }

                break;
            default:
                return Invalid("'input' must be a string or an array of items.", "input", "invalid_type");
        }

        foreach (var (name, kind) in new[] { ("stream", "boolean"), ("store", "boolean"), ("parallel_tool_calls", "boolean"), ("instructions", "string"), ("previous_response_id", "string") })
        {
            if (request[name] is { } node && node.GetValueKind() != JsonValueKind.Null && !IsKind(node, kind))
            {
                return Invalid($"'{name}' must be a {kind}.", name, "invalid_type");
            }
        }

        if (request["tools"] is { } tools && tools.GetValueKind() != JsonValueKind.Null && tools is not JsonArray)
        {
            return Invalid("'tools' must be an array.", "tools", "invalid_type");
        }

        if (request["include"] is { } include && include.GetValueKind() != JsonValueKind.Null && include is not JsonArray)
        {
            return Invalid("'include' must be an array of strings.", "include", "invalid_type");
        }

        if (request["max_output_tokens"] is { } max && max.GetValueKind() != JsonValueKind.Null
            && (max.GetValueKind() != JsonValueKind.Number || !max.AsValue().TryGetValue<int>(out var count) || count < 1))
        {
            return Invalid("'max_output_tokens' must be a positive integer.", "max_output_tokens", "invalid_type");
        }

        if (request["reasoning"] is { } reasoning && reasoning.GetValueKind() != JsonValueKind.Null && reasoning is not JsonObject)
        {
            return Invalid("'reasoning' must be an object.", "reasoning", "invalid_type");
        }

        return null;
    }

    private static bool IsKind(JsonNode node, string kind) => kind switch
    {
        "boolean" => node.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        _ => node.GetValueKind() == JsonValueKind.String,
    };

    /// <summary>Sampling, length, format and effort under their chat names; the rest stays with the proxy.</summary>
    private static void CopyOptions(JsonObject request, JsonObject chat)
    {
        foreach (var name in new[] { "temperature", "top_p", "user", "parallel_tool_calls", "top_logprobs", "prompt_cache_key" })
        {
            if (request[name] is { } value && value.GetValueKind() != JsonValueKind.Null)
            {
                chat[name] = value.DeepClone();
            }
        }

        if (request["max_output_tokens"] is JsonValue max && max.GetValueKind() == JsonValueKind.Number)
        {
            chat["max_tokens"] = max.DeepClone();
        }

        if (request["reasoning"] is JsonObject reasoning && reasoning["effort"] is { } effort && effort.GetValueKind() != JsonValueKind.Null)
        {
            chat["reasoning"] = new JsonObject { ["effort"] = effort.DeepClone() };
        }

        if (request["text"] is JsonObject text && text["format"] is JsonObject format)
        {
            switch (JsonProperties.String(format["type"]))
            {
                case "json_schema":
                    var schema = new JsonObject { ["name"] = format["name"]?.DeepClone() ?? "response", ["schema"] = format["schema"]?.DeepClone() };
                    if (format["strict"] is { } strict)
                    {
                        schema["strict"] = strict.DeepClone();
                    }

                    if (format["description"] is { } description)
                    {
                        schema["description"] = description.DeepClone();
                    }

                    chat["response_format"] = new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
                    break;
                case "json_object":
                    chat["response_format"] = new JsonObject { ["type"] = "json_object" };
                    break;
            }
        }
    }

    /// <summary>Responses' <c>tool_choice</c> in chat terms; hosted-tool choices and <c>allowed_tools</c> keep their mode.</summary>
    private static JsonNode ChatToolChoice(JsonNode? choice)
    {
        if (choice is JsonValue mode && JsonProperties.String(mode) is { } text)
        {
            return text;
        }

        if (choice is not JsonObject forced)
        {
            return "auto";
        }

        return JsonProperties.String(forced["type"]) switch
        {
            "function" or "custom" when JsonProperties.String(forced["name"]) is { } name => new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = ResponsesTools.ChatName(name, JsonProperties.String(forced["namespace"])) },
            },
            "allowed_tools" => JsonProperties.String(forced["mode"]) == "required" ? "required" : "auto",
            _ => "auto",
        };
    }

    /// <summary>The request's settings as the response object repeats them, with OpenAI's defaults.</summary>
    private static byte[] Echo(JsonObject request)
    {
        var reasoning = request["reasoning"] as JsonObject;
        var echo = new JsonObject
        {
            ["instructions"] = request["instructions"]?.DeepClone(),
            ["max_output_tokens"] = request["max_output_tokens"]?.DeepClone(),
            ["metadata"] = request["metadata"]?.DeepClone() ?? new JsonObject(),
            ["parallel_tool_calls"] = request["parallel_tool_calls"]?.DeepClone() ?? true,
            ["previous_response_id"] = request["previous_response_id"]?.DeepClone(),
            ["prompt_cache_key"] = request["prompt_cache_key"]?.DeepClone(),
            ["reasoning"] = new JsonObject { ["effort"] = reasoning?["effort"]?.DeepClone(), ["summary"] = reasoning?["summary"]?.DeepClone() },
            ["store"] = request["store"]?.DeepClone() ?? true,
            ["temperature"] = request["temperature"]?.DeepClone() ?? 1.0,
            ["text"] = request["text"]?.DeepClone() ?? new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["tool_choice"] = request["tool_choice"]?.DeepClone() ?? "auto",
            ["tools"] = request["tools"]?.DeepClone() ?? new JsonArray(),
            ["top_p"] = request["top_p"]?.DeepClone() ?? 1.0,
            ["truncation"] = "disabled",
            ["user"] = request["user"]?.DeepClone(),
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(echo, OpenAiJson.SerializerOptions);
        // The properties without their braces: written into every response object of the stream.
        return bytes[1..^1];
    }

    private static RequestProblem Invalid(string message, string param, string code) => new(400, message, param, code);

    /// <summary>Builds chat messages from items; an assistant turn's items gather into one message.</summary>
    private sealed class HistoryBuilder(JsonArray messages, Func<string, string?> unseal)
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
                    messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = PlainText(item["output"]) });
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

            messages.Add(message);
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
                messages.Add(new JsonObject { ["role"] = role, ["content"] = ChatContent(content) });
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

            calls.Add(new JsonObject
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
                    chatParts.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
                }
                else if (PartText(part) is { } text)
                {
                    chatParts.Add(new JsonObject { ["type"] = "text", ["text"] = text });
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
}
