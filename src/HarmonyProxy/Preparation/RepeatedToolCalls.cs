using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// How many times in a row a history's last assistant turns made the same tool calls (names and
/// arguments, compared in canonical form: keys sorted, no whitespace): a model that keeps issuing
/// one call is looping. Only counted; the conversation is never changed.
/// </summary>
internal static class RepeatedToolCalls
{
    public static int AtEnd(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        string? last = null;
        var run = 0;
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i] is not JsonObject message || JsonProperties.String(message["role"]) is not { } name)
            {
                continue;
            }

            if (name == "tool")
            {
                continue;
            }

            if (name != "assistant" || !ReasoningRetention.IsToolCallTurn(message))
            {
                break;
            }

            var signature = Signature(message["tool_calls"]!.AsArray());
            if (last is not null && signature != last)
            {
                break;
            }

            last = signature;
            run++;
        }

        return run;
    }

    private static string Signature(JsonArray calls)
    {
        var text = new StringBuilder();
        foreach (var call in calls.OfType<JsonObject>())
        {
            var function = call["function"] as JsonObject;
            text.Append(function?["name"]?.ToString()).Append('(').Append(Canonical(function?["arguments"])).Append(");");
        }

        return text.ToString();
    }

    private static string Canonical(JsonNode? arguments)
    {
        var parsed = arguments;
        if (arguments is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            try
            {
                parsed = JsonNode.Parse(value.GetValue<string>(), documentOptions: OpenAiJson.DocumentOptions);
            }
            catch (JsonException)
            {
                return value.GetValue<string>();
            }
        }

        return Sorted(parsed)?.ToJsonString() ?? "null";
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => KeyValuePair.Create(pair.Key, Sorted(pair.Value)))),
        JsonArray array => new JsonArray(array.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };
}
