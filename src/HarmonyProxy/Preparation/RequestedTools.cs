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

        var textParameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var function in Functions(request))
        {
            if (StringAt(function, "name") is { } name)
            {
                names.Add(name);
                if (TextParameter(function["parameters"] as JsonObject) is { } parameter)
                {
                    textParameters[name] = parameter;
                }
            }
        }

        return new ToolPolicy(false, names, parallel) { TextParameters = textParameters };
    }

    /// <summary>Every function the request offers, whatever its <c>tool_choice</c>.</summary>
    public static IReadOnlySet<string> OfferedNames(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Functions(request).Select(function => StringAt(function, "name")).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The offered functions: each <c>tools</c> entry's <c>function</c>, and the older <c>functions</c>.</summary>
    private static IEnumerable<JsonObject> Functions(JsonObject request) =>
        (request["tools"] as JsonArray ?? []).OfType<JsonObject>().Select(tool => tool["function"]).OfType<JsonObject>()
            .Concat((request["functions"] as JsonArray ?? []).OfType<JsonObject>());

    /// <summary>The parameter a plain body fills: the only required string property, else the only string property.</summary>
    private static string? TextParameter(JsonObject? schema)
    {
        if (schema?["properties"] is not JsonObject properties)
        {
            return null;
        }

        var strings = properties.Where(property => JsonProperties.String((property.Value as JsonObject)?["type"]) == "string").Select(property => property.Key).ToList();
        var required = (schema["required"] as JsonArray ?? []).Select(JsonProperties.String).OfType<string>().Where(strings.Contains).ToList();
        return required.Count == 1 ? required[0] : strings.Count == 1 ? strings[0] : null;
    }

    private static string? StringAt(JsonNode? node, string property) => JsonProperties.String((node as JsonObject)?[property]);
}
