using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>
/// Reads llama-server's chat completion chunks with <see cref="Utf8JsonReader"/>: no DOM, no
/// string per token. What a chunk says goes to an <see cref="ILlamaServerChunkHandler"/> (the
/// translator), text as spans of a reused buffer valid only during the call.
/// </summary>
internal sealed partial class LlamaServerChunkReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    private char[] _chars = new char[256];

    /// <summary>Reads one event's data (a chunk, a whole completion, an error, or [DONE]) into <paramref name="handler"/>.</summary>
    public UpstreamEventKind Read(ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (data.SequenceEqual("[DONE]"u8))
        {
            return UpstreamEventKind.Done;
        }

        try
        {
            if (handler.AwaitingIdentity && !TryReadIdentity(data, handler))
            {
                return UpstreamEventKind.Invalid;
            }

            return ReadChunk(data, handler);
        }
        catch (JsonException)
        {
            return UpstreamEventKind.Invalid;
        }
    }

    private static bool TryReadIdentity(ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        var reader = new Utf8JsonReader(data, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        string? id = null, model = null, fingerprint = null;
        long created = 0;
        var isError = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                id = ReadStringOrNull(ref reader);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                model = ReadStringOrNull(ref reader);
            }
            else if (reader.ValueTextEquals("system_fingerprint"u8))
            {
                fingerprint = ReadStringOrNull(ref reader);
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
                {
                    created = value;
                }
            }
            else
            {
                isError |= reader.ValueTextEquals("error"u8);
                reader.Read();
                reader.Skip();
            }
        }

        if (!isError)
        {
            handler.Identity(id, model, created, fingerprint);
        }

        return true;
    }

    private UpstreamEventKind ReadChunk(ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        var reader = new Utf8JsonReader(data, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return UpstreamEventKind.Invalid;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                ReadChoices(ref reader, data, handler);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    handler.Usage(data[start..(int)reader.BytesConsumed]);
                }
            }
            else if (ErrorOrSkipped(ref reader, data, handler))
            {
                return UpstreamEventKind.Error;
            }
        }

        return UpstreamEventKind.Chunk;
    }

    /// <summary>At a property no reader wants: an <c>error</c> goes to the handler (true), anything else is skipped.</summary>
    private static bool ErrorOrSkipped(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        var isError = reader.ValueTextEquals("error"u8);
        reader.Read();
        if (isError)
        {
            handler.Error(ReadError(ref reader, data));
            return true;
        }

        reader.Skip();
        return false;
    }

    private void ReadChoices(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first || reader.TokenType != JsonTokenType.StartObject)
            {
                // n > 1 is not supported by llama-server for gpt-oss streaming; only choice 0 counts.
                reader.Skip();
                continue;
            }

            first = false;
            // The delta is read after the whole choice, so that its logprobs (which llama-server
            // writes after it) are known when its text goes out.
            var delta = default(Utf8JsonReader);
            var hasDelta = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    delta = reader;
                    hasDelta = true;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    var finish = ReadStringOrNull(ref reader);
                    if (finish is not null)
                    {
                        handler.FinishReason(finish);
                    }
                }
                else if (reader.ValueTextEquals("logprobs"u8))
                {
                    reader.Read();
                    ReadLogprobs(ref reader, data, handler);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (hasDelta)
            {
                ReadDelta(ref delta, handler);
            }
        }
    }

    /// <summary>Hands <c>logprobs.content</c> to the sink as the bytes it came in.</summary>
    private static void ReadLogprobs(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isContent = reader.ValueTextEquals("content"u8);
            reader.Read();
            if (isContent && reader.TokenType == JsonTokenType.StartArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                handler.Logprobs(data[start..(int)reader.BytesConsumed]);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadDelta(ref Utf8JsonReader reader, ILlamaServerChunkHandler handler)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                if (NextIsString(ref reader))
                {
                    handler.Content(ReadChars(ref reader));
                }
            }
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
            {
                if (NextIsString(ref reader))
                {
                    handler.Reasoning(ReadChars(ref reader));
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                ReadToolCalls(ref reader, handler);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }
}
