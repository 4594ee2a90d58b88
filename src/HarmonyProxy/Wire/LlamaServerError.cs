using System.Text;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>
/// An error body llama-server sent (llama-server.md §4.1): <c>{"error":{"code","message","type"}}</c>,
/// with <c>n_prompt_tokens</c> and <c>n_ctx</c> when the prompt did not fit; a bare string or
/// plain text from something in between is kept as the message.
/// </summary>
internal sealed record LlamaServerError(string? Message, string? Type, int? PromptTokens = null, int? ContextSize = null)
{
    private const int MaxQuotedTextChars = 500;

    public static LlamaServerError Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return new LlamaServerError(JsonProperties.Text(error), null);
                }

                if (error.ValueKind == JsonValueKind.Object)
                {
                    return new LlamaServerError(JsonProperties.String(error, "message"), JsonProperties.String(error, "type"), JsonProperties.Int(error, "n_prompt_tokens"), JsonProperties.Int(error, "n_ctx"));
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: quote the text itself.
        }

        var text = Encoding.UTF8.GetString(body).Trim();
        return new LlamaServerError(text.Length == 0 ? null : text.Length > MaxQuotedTextChars ? text[..MaxQuotedTextChars] + "…" : text, null);
    }
}
