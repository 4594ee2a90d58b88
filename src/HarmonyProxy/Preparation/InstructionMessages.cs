using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// gpt-oss's chat template makes the first message, when it is a system or developer message, the
/// developer instructions, and renders no other system or developer message: a client that sends
/// several (opencode, Claude Code: the agent's prompt, then the project's rules, then reminders)
/// would lose all but the first without a word. They are merged into that first place, in order,
/// one blank line between.
/// </summary>
internal static class InstructionMessages
{
    private const string Separator = "\n\n";

    /// <summary>Merges every system and developer message into one at the start; returns how many were folded into it.</summary>
    public static int Merge(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var instructions = messages.OfType<JsonObject>().Where(IsInstruction).ToList();
        if (instructions.Count == 0 || (instructions.Count == 1 && ReferenceEquals(messages[0], instructions[0])))
        {
            return 0;
        }

        var merged = instructions[0];
        merged["content"] = MergedContent(instructions);
        foreach (var message in instructions)
        {
            messages.Remove(message);
        }

        messages.Insert(0, merged);
        return instructions.Count - 1;
    }

    private static bool IsInstruction(JsonObject message) => JsonProperties.String(message["role"]) is "system" or "developer";

    /// <summary>One string when every part is text; else the parts in order, a text separator between messages.</summary>
    private static JsonNode MergedContent(List<JsonObject> instructions)
    {
        var contents = instructions.Select(message => message["content"]).Where(content => content is not null && !IsEmptyText(content)).ToList();
        if (contents.All(IsTextOnly))
        {
            return JsonValue.Create(string.Join(Separator, contents.Select(Text)))!;
        }

        var parts = new JsonArray();
        foreach (var content in contents)
        {
            if (parts.Count > 0)
            {
                parts.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = Separator });
            }

            if (content is JsonArray array)
            {
                foreach (var part in array)
                {
                    parts.Add(part?.DeepClone());
                }
            }
            else
            {
                parts.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = Text(content) });
            }
        }

        return parts;
    }

    private static bool IsTextOnly(JsonNode? content) =>
        content is JsonValue || (content is JsonArray parts && parts.All(part => part is JsonObject { } text && JsonProperties.String(text["type"]) == "text"));

    private static bool IsEmptyText(JsonNode? content) => IsTextOnly(content) && Text(content).Length == 0;

    private static string Text(JsonNode? content) => content switch
    {
        JsonArray parts => string.Concat(parts.OfType<JsonObject>().Select(part => JsonProperties.String(part["text"]) ?? string.Empty)),
        _ => JsonProperties.String(content) ?? string.Empty,
    };
}
