using System.Text.Json;

namespace HarmonyProxy.Wire.Anthropic;

/// <summary>The error shape Anthropic's clients parse: <c>{"type":"error","error":{"type","message"}}</c>.</summary>
internal static class AnthropicError
{
    /// <summary>Anthropic's error type for an HTTP status (529 and a full queue: <c>overloaded_error</c>).</summary>
    public static string TypeOf(int status) => status switch
    {
        400 or 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        _ => "api_error",
    };

    public static byte[] ToBytes(int status, string message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "error"u8);
            json.WriteStartObject("error"u8);
            json.WriteString("type"u8, TypeOf(status));
            json.WriteString("message"u8, message);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
