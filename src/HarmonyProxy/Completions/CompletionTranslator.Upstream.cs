using System.Text.Json;

namespace HarmonyProxy.Completions;

/// <summary>Reading llama-server chunks with <see cref="Utf8JsonReader"/>: no DOM, no per-token strings.</summary>
internal sealed partial class CompletionTranslator
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    private char[] _chars = new char[256];

    /// <summary>The last in-stream error upstream sent.</summary>
    public UpstreamStreamError? UpstreamError { get; private set; }

    /// <summary>The upstream's finish reason so far (null until its finish chunk).</summary>
    public string? UpstreamFinishReason => _upstreamFinish;

    /// <summary>Takes one upstream SSE event's data (a chunk, a whole completion, an error, or [DONE]).</summary>
    public UpstreamEventKind ProcessEvent(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return UpstreamEventKind.Done;
        }

        try
        {
            if (!_begun && !TryBegin(data))
            {
                return UpstreamEventKind.Invalid;
            }

            return ReadChunk(data);
        }
        catch (JsonException)
        {
            return UpstreamEventKind.Invalid;
        }
    }

    private bool TryBegin(ReadOnlySpan<byte> data)
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
            Begin(id, model, created, fingerprint);
        }

        return true;
    }

    private UpstreamEventKind ReadChunk(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data, ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                ReadChoices(ref reader, data);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    _usage = data[start..(int)reader.BytesConsumed].ToArray();
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                UpstreamError = ReadError(ref reader, data);
                return UpstreamEventKind.Error;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return UpstreamEventKind.Chunk;
    }

    private void ReadChoices(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
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
                        _upstreamFinish = finish;
                    }
                }
                else if (reader.ValueTextEquals("logprobs"u8))
                {
                    reader.Read();
                    ReadLogprobs(ref reader, data);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (hasDelta)
            {
                ReadDelta(ref delta);
            }
        }
    }

    /// <summary>Hands <c>logprobs.content</c> to the sink as the bytes it came in.</summary>
    private void ReadLogprobs(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
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
                _sink.Logprobs(data[start..(int)reader.BytesConsumed]);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadDelta(ref Utf8JsonReader reader)
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
                    OnUpstreamContent(ReadChars(ref reader));
                }
            }
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
            {
                if (NextIsString(ref reader))
                {
                    OnUpstreamReasoning(ReadChars(ref reader));
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                ReadToolCalls(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadFunction(ref Utf8JsonReader reader, ref string? name, ref string? arguments)
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
                    arguments = reader.GetString();
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
}
