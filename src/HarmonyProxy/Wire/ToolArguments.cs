using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>A tool call's arguments made from a body the model wrote for a built-in tool.</summary>
internal static class ToolArguments
{
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The body itself when it is a JSON object (<c>browser.search</c>'s <c>{"query":…}</c>), else
    /// one object holding it as the function's text parameter (<c>python</c>'s code:
    /// <c>{"code":"print(1)"}</c>).
    /// </summary>
    public static string FromBody(string body, string parameter)
    {
        ArgumentNullException.ThrowIfNull(body);
        var trimmed = body.Trim();
        if (IsJsonObject(trimmed))
        {
            return trimmed;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Relaxed))
        {
            writer.WriteStartObject();
            writer.WriteString(parameter, body);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool IsJsonObject(string text)
    {
        if (!text.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
