using System.Buffers;
using System.Text.Json;

namespace HarmonyProxy.Wire.Responses;

/// <summary>llama-server's chat usage in the Responses API's terms (input/output tokens and their details).</summary>
internal static class ResponsesUsage
{
    public static byte[]? FromChat(ReadOnlySpan<byte> chatUsage)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(chatUsage);
            if (!JsonDocument.TryParseValue(ref reader, out var parsed))
            {
                return null;
            }

            document = parsed;
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var usage = document.RootElement;
            if (usage.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var input = Number(usage, "prompt_tokens");
            var output = Number(usage, "completion_tokens");
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
            {
                json.WriteStartObject();
                json.WriteNumber("input_tokens"u8, input);
                json.WriteStartObject("input_tokens_details"u8);
                json.WriteNumber("cached_tokens"u8, Detail(usage, "prompt_tokens_details", "cached_tokens"));
                json.WriteEndObject();
                json.WriteNumber("output_tokens"u8, output);
                json.WriteStartObject("output_tokens_details"u8);
                json.WriteNumber("reasoning_tokens"u8, Detail(usage, "completion_tokens_details", "reasoning_tokens"));
                json.WriteEndObject();
                json.WriteNumber("total_tokens"u8, usage.TryGetProperty("total_tokens", out var total) && total.TryGetInt64(out var sum) ? sum : input + output);
                json.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }

    private static long Number(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : 0;

    private static long Detail(JsonElement usage, string details, string name) =>
        usage.TryGetProperty(details, out var inner) && inner.ValueKind == JsonValueKind.Object ? Number(inner, name) : 0;
}
