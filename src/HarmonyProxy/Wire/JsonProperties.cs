using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Wire;

/// <summary>Optional properties of OpenAI-shaped bodies (llama-server's, clients'), read leniently: a missing or mistyped one is null.</summary>
internal static class JsonProperties
{
    public static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? Text(value) : null;

    /// <summary>
    /// A JSON string's text, null when the value is not a string. Text the reader refuses (a lone
    /// surrogate escape, invalid UTF-8: llama-server's bodies can hold both) becomes U+FFFD
    /// instead of an exception, as in the chunk reader.
    /// </summary>
    public static string? Text(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // The raw token holds its quotes.
            return LenientJsonString.Decode(JsonMarshal.GetRawUtf8Value(value)[1..^1]);
        }
    }

    public static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    /// <summary>The node's text when it is a JSON string, else null.</summary>
    public static string? String(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
