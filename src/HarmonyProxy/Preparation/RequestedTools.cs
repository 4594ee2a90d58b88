using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>The <see cref="ToolPolicy"/> a chat request states: its <c>tools</c> (or <c>functions</c>), <c>tool_choice</c> and <c>parallel_tool_calls</c>.</summary>
internal static class RequestedTools
{
    /// <summary>The policy a chat request states.</summary>
    public static ToolPolicy From(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parallel = request["parallel_tool_calls"] is not JsonValue flag || flag.GetValueKind() != JsonValueKind.False;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var choice = request["tool_choice"];
        if (choice is JsonValue none && none.GetValueKind() == JsonValueKind.String && none.GetValue<string>() == "none")
        {
            return new ToolPolicy(false, names, parallel);
        }

        if (choice is JsonObject forced && StringAt(forced["function"], "name") is { } forcedName)
        {
            names.Add(forcedName);
            return new ToolPolicy(false, names, parallel);
        }

        foreach (var tool in (request["tools"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (StringAt(tool["function"], "name") is { } name)
            {
                names.Add(name);
            }
        }

        foreach (var function in (request["functions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (StringAt(function, "name") is { } name)
            {
                names.Add(name);
            }
        }

        return new ToolPolicy(false, names, parallel);
    }

    private static string? StringAt(JsonNode? node, string property) => JsonProperties.String((node as JsonObject)?[property]);
}
