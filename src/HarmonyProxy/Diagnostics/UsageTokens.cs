using System.Text.Json;

namespace HarmonyProxy.Diagnostics;

/// <summary>Reads prompt and completion token counts from llama-server's usage object.</summary>
internal static class UsageTokens
{
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
