using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.OpenAi;

namespace HarmonyProxy.Completions;

/// <summary>
/// Which tool calls a request lets reach the client as native <c>tool_calls</c>: only functions
/// it offered (<c>tools</c>, or the older <c>functions</c>), none with <c>tool_choice: "none"</c>,
/// and at most one with <c>parallel_tool_calls: false</c> (Roo sends it). gpt-oss calls tools it
/// was never offered (built-ins such as <c>browser.search</c>, names from its training).
/// </summary>
/// <param name="AnyName">True when every name is allowed (no request to judge by: tests, benchmarks).</param>
/// <param name="Names">The offered function names.</param>
/// <param name="ParallelToolCalls">False when the client wants at most one call per turn.</param>
internal sealed record ToolPolicy(bool AnyName, IReadOnlySet<string> Names, bool ParallelToolCalls)
{
    public static readonly ToolPolicy Unrestricted = new(true, new HashSet<string>(), true);

    public bool Offers(string name) => AnyName || Names.Contains(name);

    /// <summary>The policy a chat request states.</summary>
    public static ToolPolicy FromRequest(JsonObject request)
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
