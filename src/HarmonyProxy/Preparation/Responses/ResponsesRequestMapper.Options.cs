using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Preparation.Responses;

/// <summary>The request's options under their chat names, and the settings a response object repeats.</summary>
internal static partial class ResponsesRequestMapper
{
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
    private static JsonObject Echo(JsonObject request)
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
        return echo;
    }
}
