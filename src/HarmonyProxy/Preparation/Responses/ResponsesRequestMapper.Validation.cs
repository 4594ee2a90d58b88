using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation.Responses;

/// <summary>
/// What a Responses request may hold, checked before anything is mapped: each field the proxy
/// reads has its type and range, and what the proxy cannot honour (a <c>conversation</c> object,
/// <c>background</c> mode, <c>truncation: auto</c>, files, audio) is a 400 naming the field,
/// never a silent empty message or a fresh start.
/// </summary>
internal static partial class ResponsesRequestMapper
{
    /// <summary>Content part types of a message item the proxy can give llama-server.</summary>
    private static readonly string[] MessagePartTypes = ["input_text", "output_text", "input_image", "refusal", "summary_text", "reasoning_text"];

    private static RequestProblem? Validate(JsonObject request)
    {
        if (Input(request["input"]) is { } inputProblem)
        {
            return inputProblem;
        }

        foreach (var (name, kind) in new[] { ("store", "boolean"), ("instructions", "string"), ("previous_response_id", "string") })
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

        if (request["include"] is { } include && include.GetValueKind() != JsonValueKind.Null
            && (include is not JsonArray entries || entries.Any(entry => entry?.GetValueKind() != JsonValueKind.String)))
        {
            return Invalid("'include' must be an array of strings.", "include", "invalid_type");
        }

        if (request["max_output_tokens"] is { } max && max.GetValueKind() != JsonValueKind.Null
            && (max.GetValueKind() != JsonValueKind.Number || !max.AsValue().TryGetValue<int>(out var count) || count < 1))
        {
            return Invalid("'max_output_tokens' must be a positive integer.", "max_output_tokens", "invalid_type");
        }

        return RequestFields.CheckShared(request)
            ?? RequestFields.Object(request, "reasoning")
            ?? Unsupported(request)
            ?? Text(request)
            ?? ToolChoice(request);
    }

    /// <summary>A string, or an array of item objects whose parts and outputs the proxy can render.</summary>
    private static RequestProblem? Input(JsonNode? input)
    {
        switch (input)
        {
            case null:
                return Invalid("'input' is required: a string or an array of items.", "input", "missing_required_parameter");
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return null;
            case JsonArray { Count: 0 }:
                return Invalid("'input' must hold at least one item.", "input", "invalid_value");
            case JsonArray items:
                for (var i = 0; i < items.Count; i++)
                {
                    if (Item(items[i], $"input[{i}]") is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            default:
                return Invalid("'input' must be a string or an array of items.", "input", "invalid_type");
        }
    }

    private static RequestProblem? Item(JsonNode? node, string param)
    {
        if (node is not JsonObject item)
        {
            return Invalid($"{param} must be an object.", param, "invalid_type");
        }

        var type = JsonProperties.String(item["type"]) ?? (item.ContainsKey("role") ? "message" : null);
        switch (type)
        {
            case "message":
                return item["content"] is JsonArray parts ? Parts(parts, $"{param}.content", MessagePartTypes) : null;
            case "function_call_output" or "custom_tool_call_output":
                return item["output"] switch
                {
                    JsonValue output when output.GetValueKind() == JsonValueKind.String => null,
                    JsonArray outputParts => Parts(outputParts, $"{param}.output", ["input_text", "output_text"]),
                    _ => Invalid($"{param}.output must be a string or an array of input_text parts; got {item["output"]?.ToJsonString() ?? "nothing"}.", $"{param}.output", "invalid_type"),
                };
            default:
                return null;
        }
    }

    /// <summary>Each part an object of an allowed type; text parts with string text; files and audio refused by name.</summary>
    private static RequestProblem? Parts(JsonArray parts, string param, string[] allowed)
    {
        for (var j = 0; j < parts.Count; j++)
        {
            var at = $"{param}[{j}]";
            if (parts[j] is not JsonObject part)
            {
                return Invalid($"{at} must be a content part object.", at, "invalid_type");
            }

            var type = JsonProperties.String(part["type"]);
            switch (type)
            {
                case "input_file":
                    return Invalid($"{at}: input_file is not supported: llama-server reads no files; send the file's text as input_text.", at, "unsupported_value");
                case "input_audio":
                    return Invalid($"{at}: input_audio is not supported: gpt-oss on llama-server takes no audio.", at, "unsupported_value");
                case "input_image" when allowed.Contains(type) && JsonProperties.String(part["image_url"]) is null:
                    return Invalid($"{at}.image_url must be a URL or a data URL (file_id is not supported: the proxy keeps no files).", $"{at}.image_url", "invalid_value");
                case "input_image" when allowed.Contains(type):
                    break;
                case not null when allowed.Contains(type):
                    if (JsonProperties.String(part["text"]) is null && JsonProperties.String(part["refusal"]) is null)
                    {
                        return Invalid($"{at}.text must be a string.", $"{at}.text", "invalid_type");
                    }

                    break;
                default:
                    return Invalid($"{at}.type must be one of {string.Join(", ", allowed)}; got {part["type"]?.ToJsonString() ?? "nothing"}.", $"{at}.type", "invalid_value");
            }
        }

        return null;
    }

    /// <summary>What OpenAI offers that the proxy cannot do, refused rather than ignored.</summary>
    private static RequestProblem? Unsupported(JsonObject request)
    {
        if (request["conversation"] is { } conversation && conversation.GetValueKind() != JsonValueKind.Null)
        {
            return Invalid("'conversation' is not supported: the proxy keeps no conversation objects; continue a response with 'previous_response_id', or send the whole input.", "conversation", "unsupported_parameter");
        }

        if (RequestFields.Boolean(request, "background") is { } notBoolean)
        {
            return notBoolean;
        }

        if (request["background"] is JsonValue background && background.GetValueKind() == JsonValueKind.True)
        {
            return Invalid("'background' responses are not supported: the proxy answers while the client waits (stream with 'stream': true).", "background", "unsupported_value");
        }

        if (request["truncation"] is JsonValue truncation && JsonProperties.String(truncation) == "auto")
        {
            return Invalid("'truncation': 'auto' is not supported: llama-server cannot drop the oldest items; send 'disabled' and shorten the input on context_length_exceeded.", "truncation", "unsupported_value");
        }

        return RequestFields.OneOf(request, "truncation", "disabled", "auto");
    }

    /// <summary><c>text</c>: an object whose <c>format</c> is text, json_object or json_schema (with its schema); <c>verbosity</c> one of OpenAI's.</summary>
    private static RequestProblem? Text(JsonObject request)
    {
        if (RequestFields.Object(request, "text") is { } problem)
        {
            return problem;
        }

        if (request["text"] is not JsonObject text)
        {
            return null;
        }

        if (RequestFields.OneOf(text, "verbosity", "low", "medium", "high") is { } verbosity)
        {
            return verbosity with { Param = "text.verbosity", Message = verbosity.Message.Replace("'verbosity'", "'text.verbosity'", StringComparison.Ordinal) };
        }

        return text["format"] switch
        {
            null => null,
            JsonValue format when format.GetValueKind() == JsonValueKind.Null => null,
            JsonObject format => JsonProperties.String(format["type"]) switch
            {
                "text" or "json_object" => null,
                "json_schema" when format["schema"] is JsonObject => null,
                "json_schema" => Invalid("'text.format.schema' must be an object (a JSON Schema).", "text.format.schema", "invalid_type"),
                _ => Invalid($"'text.format.type' must be text, json_object or json_schema; got {format["type"]?.ToJsonString() ?? "nothing"}.", "text.format.type", "invalid_value"),
            },
            _ => Invalid("'text.format' must be an object.", "text.format", "invalid_type"),
        };
    }

    /// <summary><c>tool_choice</c>: a mode, or an object of a known type; a forced function or custom tool must be one the request offers.</summary>
    private static RequestProblem? ToolChoice(JsonObject request)
    {
        if (RequestFields.IsToolChoiceMode(request["tool_choice"]))
        {
            return null;
        }

        switch (request["tool_choice"])
        {
            case JsonObject forced when JsonProperties.String(forced["type"]) is "function" or "custom":
                if (JsonProperties.String(forced["name"]) is not { } name)
                {
                    return Invalid("'tool_choice.name' must be a string.", "tool_choice.name", "invalid_type");
                }

                var offered = (request["tools"] as JsonArray ?? []).OfType<JsonObject>()
                    .SelectMany(tool => tool["tools"] is JsonArray inner ? inner.OfType<JsonObject>() : [tool])
                    .Select(tool => JsonProperties.String(tool["name"]));
                return offered.Contains(name, StringComparer.Ordinal)
                    ? null
                    : Invalid($"'tool_choice' names the tool '{name}', which 'tools' does not offer.", "tool_choice", "invalid_value");
            case JsonObject forced when JsonProperties.String(forced["type"]) is { } type:
                // allowed_tools and hosted-tool choices (web_search…) keep their mode.
                return type == "allowed_tools" && RequestFields.OneOf(forced, "mode", "auto", "required") is not null
                    ? Invalid("'tool_choice.mode' must be auto or required.", "tool_choice.mode", "invalid_value")
                    : null;
            default:
                return Invalid("'tool_choice' must be none, auto, required or an object with a 'type'.", "tool_choice", "invalid_type");
        }
    }

    private static bool IsKind(JsonNode node, string kind) => kind switch
    {
        "boolean" => node.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        _ => node.GetValueKind() == JsonValueKind.String,
    };
}
