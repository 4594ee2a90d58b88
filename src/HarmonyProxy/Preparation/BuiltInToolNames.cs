using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// gpt-oss was trained with built-in tools named <c>python</c>, <c>browser</c> and <c>container</c>;
/// a client function of one of those names (or <c>bash</c>, which it takes for the container's
/// shell) is confused with the built-in: the model calls <c>to=python</c> with bare code instead of
/// <c>to=functions.python</c> with arguments. Such functions reach llama-server under another name
/// (<c>python_tool</c>), in the tool list, the forced choice and the history alike, and their
/// calls come back under the client's name (<see cref="Completions.ToolPolicy.ClientNames"/>).
/// </summary>
internal static class BuiltInToolNames
{
    private static readonly string[] Colliding = ["python", "browser", "container", "bash"];

    private static readonly Dictionary<string, string> None = [];

    /// <summary>Renames the request's colliding functions; returns llama-server's name → the client's (empty: nothing collided).</summary>
    public static IReadOnlyDictionary<string, string> Rename(JsonObject request, IReadOnlySet<string> offered)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(offered);
        var upstreamNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Colliding.Where(offered.Contains))
        {
            var alias = name + "_tool";
            while (offered.Contains(alias) || upstreamNames.ContainsValue(alias))
            {
                alias += "_";
            }

            upstreamNames[name] = alias;
        }

        if (upstreamNames.Count == 0)
        {
            return None;
        }

        foreach (var tool in (request["tools"] as JsonArray ?? []).OfType<JsonObject>())
        {
            RenameAt(tool["function"] as JsonObject, upstreamNames);
        }

        foreach (var function in (request["functions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            RenameAt(function, upstreamNames);
        }

        RenameAt((request["tool_choice"] as JsonObject)?["function"] as JsonObject, upstreamNames);
        foreach (var message in (request["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            foreach (var call in (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>())
            {
                RenameAt(call["function"] as JsonObject, upstreamNames);
            }

            RenameAt(message["function_call"] as JsonObject, upstreamNames);
            if (JsonProperties.String(message["role"]) is "tool" or "function")
            {
                RenameAt(message, upstreamNames);
            }
        }

        return upstreamNames.ToDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);
    }

    private static void RenameAt(JsonObject? holder, Dictionary<string, string> upstreamNames)
    {
        if (holder is not null && JsonProperties.String(holder["name"]) is { } name && upstreamNames.TryGetValue(name, out var alias))
        {
            holder["name"] = alias;
        }
    }
}
