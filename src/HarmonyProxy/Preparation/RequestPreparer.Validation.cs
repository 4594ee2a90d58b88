using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>What a chat completion request may hold: its shape, and each field's type and range (OpenAI's).</summary>
internal static partial class RequestPreparer
{
    private static RequestProblem? Validate(JsonNode? body)
    {
        if (body is not JsonObject request)
        {
            return Invalid("The request body must be a JSON object.", null, "invalid_json");
        }

        if (request["messages"] is not JsonArray messages)
        {
            return request.ContainsKey("messages")
                ? Invalid("'messages' must be an array of message objects.", "messages", "invalid_type")
                : Invalid("'messages' is required.", "messages", "missing_required_parameter");
        }

        if (messages.Count == 0)
        {
            return Invalid("'messages' must contain at least one message.", "messages", "invalid_value");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message)
            {
                return Invalid($"messages[{i}] must be an object.", $"messages[{i}]", "invalid_type");
            }

            if (message["role"] is not JsonValue role || role.GetValueKind() != JsonValueKind.String)
            {
                return Invalid($"messages[{i}].role must be a string.", $"messages[{i}].role", "invalid_type");
            }

            var content = message["content"];
            if (content is not null && content.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return Invalid($"messages[{i}].content must be a string, an array of content parts, or null.", $"messages[{i}].content", "invalid_type");
            }

            if (content is JsonArray parts && ContentParts(parts, $"messages[{i}].content") is { } partProblem)
            {
                return partProblem;
            }
        }

        if (request["stream"] is { } stream && stream.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            return Invalid("'stream' must be a boolean.", "stream", "invalid_type");
        }

        if (request["stream_options"] is { } streamOptions && streamOptions is not JsonObject)
        {
            return Invalid("'stream_options' must be an object.", "stream_options", "invalid_type");
        }

        if (request["stop"] is { } stop && !IsStopValue(stop))
        {
            return Invalid("'stop' must be a string or an array of strings.", "stop", "invalid_type");
        }

        if (request["tools"] is { } tools && tools is not JsonArray)
        {
            return Invalid("'tools' must be an array.", "tools", "invalid_type");
        }

        if ((RequestFields.CheckShared(request)
            ?? RequestFields.Integer(request, "max_tokens", 1, int.MaxValue)
            ?? RequestFields.Integer(request, "max_completion_tokens", 1, int.MaxValue)
            ?? RequestFields.Number(request, "frequency_penalty", -2, 2)
            ?? RequestFields.Number(request, "presence_penalty", -2, 2)
            ?? RequestFields.Integer(request, "seed", long.MinValue, long.MaxValue)
            ?? RequestFields.Boolean(request, "logprobs")
            ?? ResponseFormat(request)
            ?? ToolChoice(request)) is { } fieldProblem)
        {
            return fieldProblem;
        }

        if (request["n"] is { } n && n.GetValueKind() != JsonValueKind.Null)
        {
            // llama-server refuses n above its slot count and never merges choices for gpt-oss;
            // one clear answer before it is called beats a 400 from deep inside it.
            if (n.GetValueKind() != JsonValueKind.Number || !n.AsValue().TryGetValue<int>(out var count) || count < 1)
            {
                return Invalid("'n' must be a positive integer.", "n", "invalid_type");
            }

            if (count > 1)
            {
                return Invalid($"'n' must be 1: llama-server serving gpt-oss returns one choice per request; got {count}. Send {count} requests instead.", "n", "unsupported_value");
            }
        }

        return null;
    }

    /// <summary>The content part types chat completions define; llama-server decides what it can read of the media ones.</summary>
    private static readonly string[] PartTypes = ["text", "image_url", "input_audio", "file", "refusal"];

    /// <summary>Each part an object of a known type; a text part's text a string.</summary>
    private static RequestProblem? ContentParts(JsonArray parts, string param)
    {
        for (var j = 0; j < parts.Count; j++)
        {
            if (parts[j] is not JsonObject part)
            {
                return Invalid($"{param}[{j}] must be a content part object.", $"{param}[{j}]", "invalid_type");
            }

            var type = JsonProperties.String(part["type"]);
            if (type is null || !PartTypes.Contains(type, StringComparer.Ordinal))
            {
                return Invalid($"{param}[{j}].type must be one of {string.Join(", ", PartTypes)}; got {part["type"]?.ToJsonString() ?? "nothing"}.", $"{param}[{j}].type", "invalid_value");
            }

            if (type == "text" && part["text"]?.GetValueKind() != JsonValueKind.String)
            {
                return Invalid($"{param}[{j}].text must be a string.", $"{param}[{j}].text", "invalid_type");
            }
        }

        return null;
    }

    /// <summary><c>response_format</c>: <c>text</c>, <c>json_object</c>, or <c>json_schema</c> with its schema object.</summary>
    private static RequestProblem? ResponseFormat(JsonObject request)
    {
        if (RequestFields.Object(request, "response_format") is { } problem)
        {
            return problem;
        }

        if (request["response_format"] is not JsonObject format)
        {
            return null;
        }

        return JsonProperties.String(format["type"]) switch
        {
            "text" or "json_object" => null,
            "json_schema" when format["json_schema"] is JsonObject { } schema && schema["schema"] is null or JsonObject => null,
            "json_schema" => Invalid("'response_format.json_schema' must be an object with a 'schema' object.", "response_format.json_schema", "invalid_type"),
            _ => Invalid($"'response_format.type' must be text, json_object or json_schema; got {format["type"]?.ToJsonString() ?? "nothing"}.", "response_format.type", "invalid_value"),
        };
    }

    /// <summary><c>tool_choice</c>: <c>none</c>, <c>auto</c>, <c>required</c>, or a function the request offers.</summary>
    private static RequestProblem? ToolChoice(JsonObject request)
    {
        if (RequestFields.IsToolChoiceMode(request["tool_choice"]))
        {
            return null;
        }

        switch (request["tool_choice"])
        {
            case JsonObject { } forced when JsonProperties.String(forced["type"]) == "function" && JsonProperties.String(forced["function"]?["name"]) is { } name:
                var offered = (request["tools"] as JsonArray ?? []).OfType<JsonObject>().Select(tool => JsonProperties.String(tool["function"]?["name"]));
                return offered.Contains(name, StringComparer.Ordinal)
                    ? null
                    : Invalid($"'tool_choice' names the function '{name}', which 'tools' does not offer.", "tool_choice", "invalid_value");
            default:
                return Invalid("'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}.", "tool_choice", "invalid_value");
        }
    }

    private static bool IsStopValue(JsonNode stop) =>
        stop.GetValueKind() == JsonValueKind.String
        || (stop is JsonArray items && items.All(item => item?.GetValueKind() == JsonValueKind.String));
}
