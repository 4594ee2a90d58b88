using System.Buffers;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>
/// Writes OpenAI <c>chat.completion.chunk</c> SSE events into a buffer (the response's
/// <c>PipeWriter</c> in the service). The envelope is encoded once per stream; each delta is
/// written with <see cref="Utf8JsonWriter"/> straight into the buffer, so a token costs no
/// intermediate strings. The caller flushes.
/// </summary>
internal sealed class SseChunkWriter : ICompletionSink, IDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] OpenChunkSuffix = ",\"logprobs\":null,\"finish_reason\":null}]}\n\n"u8.ToArray();

    private readonly IBufferWriter<byte> _output;
    private readonly Utf8JsonWriter _json;
    private byte[] _choicePrefix = [];
    private byte[] _envelope = [];
    private readonly ReasoningFields _reasoningFields;
    private LogprobEntries? _logprobs;

    /// <param name="output">Where the events go.</param>
    /// <param name="reasoningFields">Which field(s) reasoning deltas use.</param>
    public SseChunkWriter(IBufferWriter<byte> output, ReasoningFields reasoningFields = ReasoningFields.ReasoningContent)
    {
        _output = output;
        _reasoningFields = reasoningFields;
        _json = new Utf8JsonWriter(output, OpenAiJson.WriterOptions);
    }

    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    public static ReadOnlySpan<byte> KeepAlive => ": keep-alive\n\n"u8;

    public void Begin(CompletionEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            envelope.WriteStart(writer, "chat.completion.chunk");
            writer.Flush();
        }

        // {"id":…,"model":…  — the rest of each chunk is appended to this.
        _envelope = buffer.WrittenSpan.ToArray();
        _choicePrefix = [.. DataPrefix, .. _envelope, .. ",\"choices\":[{\"index\":0,\"delta\":"u8];

        StartDelta();
        _json.WriteString("role"u8, "assistant"u8);
        _json.WriteString("content"u8, ""u8);
        EndDelta();
    }

    public void Content(ReadOnlySpan<char> text)
    {
        StartDelta();
        _json.WriteString("content"u8, text);
        if (_logprobs is { IsEmpty: false })
        {
            EndDeltaWithLogprobs();
            return;
        }

        EndDelta();
    }

    public void Logprobs(ReadOnlySpan<byte> contentArrayJson) => (_logprobs ??= new LogprobEntries()).Add(contentArrayJson);

    public void Reasoning(ReadOnlySpan<char> text)
    {
        StartDelta();
        if (_reasoningFields.HasFlag(ReasoningFields.ReasoningContent))
        {
            _json.WriteString("reasoning_content"u8, text);
        }

        if (_reasoningFields.HasFlag(ReasoningFields.Reasoning))
        {
            _json.WriteString("reasoning"u8, text);
        }

        EndDelta();
    }

    /// <summary>OpenAI's first tool-call delta: index, id, type and name, with empty arguments.</summary>
    public void ToolCallStart(int index, string id, string name)
    {
        StartToolCallDelta(index);
        _json.WriteString("id"u8, id);
        _json.WriteString("type"u8, "function"u8);
        _json.WriteStartObject("function"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("arguments"u8, ""u8);
        EndToolCallDelta();
    }

    public void ToolCallArguments(int index, ReadOnlySpan<char> fragment)
    {
        StartToolCallDelta(index);
        _json.WriteStartObject("function"u8);
        _json.WriteString("arguments"u8, fragment);
        EndToolCallDelta();
    }

    public void Finish(FinishReason finishReason, ReadOnlySpan<byte> usageJson)
    {
        _output.Write(_choicePrefix);
        _output.Write("{},\"logprobs\":"u8);
        WriteLogprobs();
        _output.Write(",\"finish_reason\":"u8);
        _output.Write(finishReason.Json);
        _output.Write("}]}\n\n"u8);

        if (!usageJson.IsEmpty)
        {
            // The usage chunk of stream_options.include_usage: empty choices, then usage.
            _output.Write(DataPrefix);
            _output.Write(_envelope);
            _output.Write(",\"choices\":[],\"usage\":"u8);
            _output.Write(usageJson);
            _output.Write("}"u8);
            _output.Write(EventEnd);
        }

        _output.Write(Done);
    }

    public void Fail(string message, string type, string? code)
    {
        WriteError(_output, message, type, code);
        _output.Write(Done);
    }

    /// <summary>An in-stream OpenAI error event (<c>data: {"error":{…}}</c>), which the SDKs raise.</summary>
    public static void WriteError(IBufferWriter<byte> output, string message, string type, string? code)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(DataPrefix);
        using (var json = new Utf8JsonWriter(output, OpenAiJson.WriterOptions))
        {
            OpenAiError.Write(json, message, type, code);
        }

        output.Write(EventEnd);
    }

    public void Dispose() => _json.Dispose();

    /// <summary>The pre-encoded envelope, then the delta object is open for its fields.</summary>
    private void StartDelta()
    {
        _output.Write(_choicePrefix);
        _json.Reset(_output);
        _json.WriteStartObject();
    }

    private void EndDelta()
    {
        _json.WriteEndObject();
        _json.Flush();
        _output.Write(OpenChunkSuffix);
    }

    private void EndDeltaWithLogprobs()
    {
        _json.WriteEndObject();
        _json.Flush();
        _output.Write(",\"logprobs\":"u8);
        WriteLogprobs();
        _output.Write(",\"finish_reason\":null}]}\n\n"u8);
    }

    /// <summary><c>{"content":[…]}</c> with the entries waiting since the last delta that carried them, or <c>null</c>.</summary>
    private void WriteLogprobs()
    {
        if (_logprobs is not { IsEmpty: false } entries)
        {
            _output.Write("null"u8);
            return;
        }

        entries.WriteObject(_output);
        entries.Clear();
    }

    /// <summary>Opens <c>{"tool_calls":[{"index":i,</c>; the call's fields follow.</summary>
    private void StartToolCallDelta(int index)
    {
        StartDelta();
        _json.WriteStartArray("tool_calls"u8);
        _json.WriteStartObject();
        _json.WriteNumber("index"u8, index);
    }

    /// <summary>Closes the function object, the call, the array and the delta.</summary>
    private void EndToolCallDelta()
    {
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.WriteEndArray();
        EndDelta();
    }
}
