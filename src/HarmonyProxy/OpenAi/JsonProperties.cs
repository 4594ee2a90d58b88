using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.OpenAi;

/// <summary>Optional properties of OpenAI-shaped bodies (llama-server's, clients'), read leniently: a missing or mistyped one is null.</summary>
internal static class JsonProperties
{
    public static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    /// <summary>The node's text when it is a JSON string, else null.</summary>
    public static string? String(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
