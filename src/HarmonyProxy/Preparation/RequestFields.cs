using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Preparation;

/// <summary>
/// The type and range checks both APIs apply to the fields they share (OpenAI's ranges), each a
/// 400 in OpenAI's shape naming the field, so a value llama-server would misread or refuse deep
/// inside is refused clearly before it is called. An absent field or <c>null</c> always passes.
/// </summary>
internal static class RequestFields
{
    /// <summary>The sampling and metadata fields chat completions and the Responses API share.</summary>
    public static RequestProblem? CheckShared(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return String(request, "model")
            ?? Number(request, "temperature", 0, 2)
            ?? Number(request, "top_p", 0, 1)
            ?? Integer(request, "top_logprobs", 0, 20)
            ?? Boolean(request, "parallel_tool_calls")
            ?? Boolean(request, "stream")
            ?? String(request, "user")
            ?? String(request, "prompt_cache_key")
            ?? String(request, "safety_identifier")
            ?? Metadata(request);
    }

    public static RequestProblem? Number(JsonObject request, string name, double minimum, double maximum) =>
        Present(request, name) is not { } value ? null
        : value.GetValueKind() != JsonValueKind.Number || !value.AsValue().TryGetValue<double>(out var number) ? Invalid($"'{name}' must be a number from {minimum} to {maximum}; got {Shown(value)}.", name, "invalid_type")
        : number < minimum || number > maximum ? Invalid($"'{name}' must be from {minimum} to {maximum}; got {Shown(value)}.", name, "invalid_value")
        : null;

    public static RequestProblem? Integer(JsonObject request, string name, long minimum, long maximum) =>
        Present(request, name) is not { } value ? null
        : value.GetValueKind() != JsonValueKind.Number || !value.AsValue().TryGetValue<long>(out var number) ? Invalid($"'{name}' must be an integer from {minimum} to {maximum}; got {Shown(value)}.", name, "invalid_type")
        : number < minimum || number > maximum ? Invalid($"'{name}' must be from {minimum} to {maximum}; got {number}.", name, "invalid_value")
        : null;

    public static RequestProblem? Boolean(JsonObject request, string name) =>
        Present(request, name) is { } value && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)
            ? Invalid($"'{name}' must be a boolean; got {Shown(value)}.", name, "invalid_type")
            : null;

    public static RequestProblem? String(JsonObject request, string name) =>
        Present(request, name) is { } value && value.GetValueKind() != JsonValueKind.String
            ? Invalid($"'{name}' must be a string; got {Shown(value)}.", name, "invalid_type")
            : null;

    public static RequestProblem? Object(JsonObject request, string name) =>
        Present(request, name) is { } value && value is not JsonObject
            ? Invalid($"'{name}' must be an object; got {Shown(value)}.", name, "invalid_type")
            : null;

    /// <summary>A string among <paramref name="allowed"/>.</summary>
    public static RequestProblem? OneOf(JsonObject request, string name, params string[] allowed)
    {
        if (Present(request, name) is not { } value)
        {
            return null;
        }

        return value.GetValueKind() == JsonValueKind.String && allowed.Contains(value.GetValue<string>(), StringComparer.Ordinal)
            ? null
            : Invalid($"'{name}' must be one of {string.Join(", ", allowed)}; got {Shown(value)}.", name, "invalid_value");
    }

    /// <summary>A <c>tool_choice</c> that names no tool: absent, <c>null</c>, <c>none</c>, <c>auto</c> or <c>required</c>.</summary>
    public static bool IsToolChoiceMode(JsonNode? choice) =>
        choice is null || choice.GetValueKind() == JsonValueKind.Null
        || (choice.GetValueKind() == JsonValueKind.String && choice.GetValue<string>() is "none" or "auto" or "required");

    /// <summary>OpenAI's <c>metadata</c>: an object of string values.</summary>
    public static RequestProblem? Metadata(JsonObject request)
    {
        if (Object(request, "metadata") is { } problem)
        {
            return problem;
        }

        return request["metadata"] is JsonObject metadata && metadata.Any(pair => pair.Value?.GetValueKind() != JsonValueKind.String)
            ? Invalid("'metadata' values must be strings.", "metadata", "invalid_type")
            : null;
    }

    public static RequestProblem Invalid(string message, string? param, string code) => new(400, message, param, code);

    /// <summary>The field's value unless it is absent or JSON <c>null</c>.</summary>
    private static JsonNode? Present(JsonObject request, string name) =>
        request[name] is { } value && value.GetValueKind() != JsonValueKind.Null ? value : null;

    /// <summary>A value as the error shows it, cut short: the client sees what it sent.</summary>
    private static string Shown(JsonNode value)
    {
        var json = value.ToJsonString();
        return json.Length <= 40 ? json : json[..40] + "…";
    }
}
