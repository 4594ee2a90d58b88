using System.Text;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>Reading values out of llama-server chunks: tool calls, error objects and strings, into reused buffers, forgiving of text the reader refuses.</summary>
internal sealed partial class LlamaServerChunkReader
{
    private void ReadToolCalls(ref Utf8JsonReader reader, ILlamaServerChunkHandler handler)
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
            string? id = null, name = null;
            var arguments = ReadOnlySpan<char>.Empty;
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

            handler.ToolCall(index, id, name, arguments);
        }
    }

    /// <remarks>The arguments are read like any delta text (<see cref="ReadChars"/>): no string per token, bad text as U+FFFD.</remarks>
    private void ReadFunction(ref Utf8JsonReader reader, ref string? name, ref ReadOnlySpan<char> arguments)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                name = ReadStringOrNull(ref reader);
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    arguments = ReadChars(ref reader);
                }
                else if (reader.TokenType == JsonTokenType.StartObject)
                {
                    // Some servers send arguments as an object; OpenAI clients want its text.
                    using var document = JsonDocument.ParseValue(ref reader);
                    arguments = document.RootElement.GetRawText();
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static UpstreamStreamError ReadError(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            return new UpstreamStreamError(Encoding.UTF8.GetString(data[start..(int)reader.BytesConsumed]), "upstream_error", null);
        }

        string message = "upstream error", type = "upstream_error";
        string? code = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                message = ReadStringOrNull(ref reader) ?? message;
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                type = ReadStringOrNull(ref reader) ?? type;
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                code = reader.TokenType switch
                {
                    JsonTokenType.String => GetStringLenient(ref reader),
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => null,
                };
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new UpstreamStreamError(message, type, code);
    }

    private static string? ReadStringOrNull(ref Utf8JsonReader reader) =>
        NextIsString(ref reader) ? GetStringLenient(ref reader) : null;

    /// <summary>The current string token's text.</summary>
    private static string GetStringLenient(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape or invalid UTF-8: U+FFFD in its place.
            return LenientJsonString.Decode(RawValue(ref reader));
        }
    }

    private static ReadOnlySpan<byte> RawValue(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan;

    /// <summary>Moves to a property's value; true when it is a string, else the value is skipped.</summary>
    private static bool NextIsString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return true;
        }

        reader.Skip();
        return false;
    }

    /// <summary>Unescapes a string token into a reused buffer: no string per token.</summary>
    private ReadOnlySpan<char> ReadChars(scoped ref Utf8JsonReader reader)
    {
        var needed = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        try
        {
            var written = reader.CopyString(_chars);
            return _chars.AsSpan(0, written);
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape or invalid UTF-8 from upstream: U+FFFD in its place, the
            // stream goes on (llama-server itself replaces invalid UTF-8, llama-server.md §1.1).
            var raw = RawValue(ref reader);
            if (_chars.Length < LenientJsonString.MaxChars(raw.Length))
            {
                _chars = new char[LenientJsonString.MaxChars(raw.Length)];
            }

            return _chars.AsSpan(0, LenientJsonString.Decode(raw, _chars));
        }
    }
}
