using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Wire;

/// <summary>llama-server's usage object: its token counts read, and the proxy's own count written in its shape.</summary>
internal static class LlamaServerUsage
{
    /// <summary>
    /// A usage object for a completion upstream reported none for: only OpenAI's fields (that the
    /// numbers are the proxy's count is said in the README, not in a field strict clients reject).
    /// </summary>
    public static byte[] Estimated(int promptTokens, int completionTokens) =>
        System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"prompt_tokens\":{promptTokens},\"completion_tokens\":{completionTokens},\"total_tokens\":{promptTokens + completionTokens}}}"));

    /// <summary>
    /// The usage with <c>completion_tokens_details.reasoning_tokens</c> set to the proxy's count
    /// when llama-server gave none (or 0) though the turn reasoned; unchanged otherwise, or when it
    /// is not an object. Once per completion, never per token.
    /// </summary>
    public static byte[] WithReasoningTokens(byte[] usage, int reasoningTokens)
    {
        ArgumentNullException.ThrowIfNull(usage);
        if (reasoningTokens <= 0)
        {
            return usage;
        }

        try
        {
            if (JsonNode.Parse(usage, documentOptions: OpenAiJson.DocumentOptions) is not JsonObject root)
            {
                return usage;
            }

            if (root["completion_tokens_details"] is not JsonObject details)
            {
                details = [];
                root["completion_tokens_details"] = details;
            }

            if (details["reasoning_tokens"] is JsonValue given && given.TryGetValue<long>(out var upstreamCount) && upstreamCount > 0)
            {
                return usage;
            }

            details["reasoning_tokens"] = reasoningTokens;
            return OpenAiJson.ToUtf8Bytes(root);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            return usage;
        }
    }

    public static bool TryRead(ReadOnlySpan<byte> usage, out long prompt, out long completion)
    {
        prompt = 0;
        completion = 0;
        if (usage.IsEmpty)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(usage);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isPrompt = reader.ValueTextEquals("prompt_tokens"u8);
                var isCompletion = reader.ValueTextEquals("completion_tokens"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
                {
                    prompt = isPrompt ? value : prompt;
                    completion = isCompletion ? value : completion;
                }
                else
                {
                    reader.Skip();
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
