using System.Text.Json;

namespace HarmonyProxy.Completions;

/// <summary>Reading the tool calls llama-server parsed itself (its <c>tool_calls</c> deltas).</summary>
internal sealed partial class CompletionTranslator
{
    private void ReadToolCalls(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var position = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var index = position++;
            string? id = null, name = null, arguments = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
                    {
                        index = value;
                    }
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    id = ReadStringOrNull(ref reader);
                }
                else if (reader.ValueTextEquals("function"u8))
                {
                    reader.Read();
                    ReadFunction(ref reader, ref name, ref arguments);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            OnUpstreamToolCall(index, id, name, arguments);
        }
    }
}
