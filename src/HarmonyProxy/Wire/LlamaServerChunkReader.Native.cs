using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>llama-server's own text completion stream (<c>POST /completion</c>), read into the same handler as its chat chunks.</summary>
internal sealed partial class LlamaServerChunkReader
{
    /// <summary>
    /// One event of <c>/completion</c>'s stream: <c>{"content":"…","stop":false}</c> per token, then
    /// one with <c>"stop":true</c> (its <c>stop_type</c> is <c>limit</c> when <c>n_predict</c> ran
    /// out) and no <c>[DONE]</c>; that last event is the end.
    /// </summary>
    public UpstreamEventKind ReadNativeCompletion(ReadOnlySpan<byte> data, ILlamaServerChunkHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (data.SequenceEqual("[DONE]"u8))
        {
            return UpstreamEventKind.Done;
        }

        try
        {
            var reader = new Utf8JsonReader(data, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return UpstreamEventKind.Invalid;
            }

            var stop = false;
            string? stopType = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("content"u8))
                {
                    if (NextIsString(ref reader))
                    {
                        handler.Content(ReadChars(ref reader));
                    }
                }
                else if (reader.ValueTextEquals("stop"u8))
                {
                    reader.Read();
                    stop = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stop_type"u8))
                {
                    stopType = ReadStringOrNull(ref reader);
                }
                else if (ErrorOrSkipped(ref reader, data, handler))
                {
                    return UpstreamEventKind.Error;
                }
            }

            if (!stop)
            {
                return UpstreamEventKind.Chunk;
            }

            handler.FinishReason(stopType == "limit" ? "length" : "stop");
            return UpstreamEventKind.Done;
        }
        catch (JsonException)
        {
            return UpstreamEventKind.Invalid;
        }
    }
}
