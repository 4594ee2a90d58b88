using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>The error shape every OpenAI client parses: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class OpenAiError
{
    public const string InvalidRequest = "invalid_request_error";
    public const string NotFound = "not_found_error";
    public const string Upstream = "upstream_error";
    public const string Server = "server_error";

    public static void Write(Utf8JsonWriter json, string message, string type, string? code, string? param = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, message);
        json.WriteString("type"u8, type);
        if (param is null)
        {
            json.WriteNull("param"u8);
        }
        else
        {
            json.WriteString("param"u8, param);
        }

        if (code is null)
        {
            json.WriteNull("code"u8);
        }
        else
        {
            json.WriteString("code"u8, code);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
    }

    public static byte[] ToBytes(string message, string type, string? code, string? param = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            Write(json, message, type, code, param);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
