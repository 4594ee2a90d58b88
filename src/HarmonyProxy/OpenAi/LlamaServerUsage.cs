using System.Text.Json;

namespace HarmonyProxy.OpenAi;

/// <summary>llama-server's usage object: its token counts read, and the proxy's estimate written in its shape.</summary>
internal static class LlamaServerUsage
{
    /// <summary>A usage object for a completion upstream reported none for, marked <c>"estimated": true</c>.</summary>
    public static byte[] Estimated(int promptTokens, int completionTokens) =>
        System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"prompt_tokens\":{promptTokens},\"completion_tokens\":{completionTokens},\"total_tokens\":{promptTokens + completionTokens},\"estimated\":true}}"));

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
