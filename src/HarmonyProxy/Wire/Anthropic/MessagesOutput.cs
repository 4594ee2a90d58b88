using System.Buffers;
using System.Text;
using System.Text.Json;

namespace HarmonyProxy.Wire.Anthropic;

/// <summary>What every message of one request shares.</summary>
/// <param name="Id">The message id (<c>msg_…</c>).</param>
/// <param name="Model">The model the client named, or null to take llama-server's.</param>
/// <param name="InputTokens">The prompt's size when the answer starts (Claude Code tracks its context from <c>message_start</c>): llama-server's count when it has arrived, else an estimate.</param>
/// <param name="ShowThinking">Stream the thinking text; false for <c>display: omitted</c> (the block then carries only its signature).</param>
/// <param name="Seal">Seals a thinking block's text into its <c>signature</c>.</param>
internal sealed record MessagesContext(string Id, string? Model, Func<int> InputTokens, bool ShowThinking, Func<string, string> Seal);

/// <summary>
/// The Anthropic Messages API's side of a completion: reasoning becomes a <c>thinking</c> block
/// (its signature seals the text, so it comes back with the next request), answer text a
/// <c>text</c> block, each tool call a <c>tool_use</c> block. Streaming, the events Anthropic sends:
/// <c>message_start</c>, per block <c>content_block_start</c>, its deltas (<c>thinking_delta</c>
/// then <c>signature_delta</c>, <c>text_delta</c>, <c>input_json_delta</c>) and
/// <c>content_block_stop</c>, then <c>message_delta</c> (stop reason, usage) and
/// <c>message_stop</c>; a failure after output is an <c>error</c> event.
/// </summary>
internal sealed partial class MessagesOutput : ICompletionBody, IDisposable
{
    private readonly MessagesContext _context;
    private readonly IBufferWriter<byte>? _events;
    private readonly Utf8JsonWriter? _json;
    private readonly List<Block> _blocks = [];
    private readonly Dictionary<int, Block> _calls = [];
    private Block? _current;
    private string? _model;
    private string? _stopReason;
    private long _inputTokens;
    private long _outputTokens;

    /// <param name="events">Where SSE events go; null for a JSON body.</param>
    public MessagesOutput(MessagesContext context, IBufferWriter<byte>? events)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _events = events;
        _json = events is null ? null : new Utf8JsonWriter(events, OpenAiJson.WriterOptions);
    }

    /// <summary>The error a failure after output carried, or null.</summary>
    public UpstreamStreamError? Error { get; private set; }

    public void Begin(CompletionEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        _model = _context.Model ?? envelope.Model;
        _inputTokens = _context.InputTokens();
        if (_json is null)
        {
            return;
        }

        StartEvent("message_start"u8);
        _json.WritePropertyName("message"u8);
        WriteMessage(_json, withContent: false);
        EndEvent();
    }

    public void Reasoning(ReadOnlySpan<char> text) =>
        Delta(Open(BlockKind.Thinking), "thinking_delta"u8, "thinking"u8, text, shown: _context.ShowThinking);

    public void Content(ReadOnlySpan<char> text)
    {
        if (!text.IsEmpty)
        {
            Delta(Open(BlockKind.Text), "text_delta"u8, "text"u8, text);
        }
    }

    public void ToolCallStart(int index, string id, string name)
    {
        Close();
        var block = new Block(BlockKind.ToolUse, _blocks.Count) { Id = id, Name = name };
        _blocks.Add(block);
        _calls[index] = block;
        _current = block;
        WriteBlockStart(block);
    }

    public void ToolCallArguments(int index, ReadOnlySpan<char> fragment)
    {
        if (_calls.TryGetValue(index, out var block) && !block.Done)
        {
            Delta(block, "input_json_delta"u8, "partial_json"u8, fragment);
        }
    }

    /// <summary>Log probabilities have no place in Anthropic's messages.</summary>
    public void Logprobs(ReadOnlySpan<byte> contentArrayJson)
    {
    }

    public void Finish(FinishReason finishReason, ReadOnlySpan<byte> usageJson)
    {
        Close();
        _stopReason = finishReason == FinishReason.ToolCalls ? "tool_use"
            : finishReason == FinishReason.Length ? "max_tokens"
            : "end_turn";
        if (LlamaServerUsage.TryRead(usageJson, out var prompt, out var completion))
        {
            _inputTokens = prompt > 0 ? prompt : _inputTokens;
            _outputTokens = completion;
        }

        if (_json is null)
        {
            return;
        }

        StartEvent("message_delta"u8);
        _json.WriteStartObject("delta"u8);
        _json.WriteString("stop_reason"u8, _stopReason);
        _json.WriteNull("stop_sequence"u8);
        _json.WriteEndObject();
        WriteUsage(_json);
        EndEvent();
        StartEvent("message_stop"u8);
        EndEvent();
    }

    public void Fail(string message, string type, string? code)
    {
        Close();
        Error = new UpstreamStreamError(message, type, code);
        if (_json is null)
        {
            return;
        }

        StartEvent("error"u8);
        _json.WriteStartObject("error"u8);
        _json.WriteString("type"u8, AnthropicError.TypeOf(type == OpenAiError.InvalidRequest ? 400 : 500));
        _json.WriteString("message"u8, message);
        _json.WriteEndObject();
        EndEvent();
    }

    /// <summary>The whole message, as the non-streaming response.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            WriteMessage(json, withContent: true);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _json?.Dispose();

    /// <summary>The open block when it is of this kind, else a new one (the open one closed).</summary>
    private Block Open(BlockKind kind)
    {
        if (_current is { Done: false } open && open.Kind == kind)
        {
            return open;
        }

        Close();
        var block = new Block(kind, _blocks.Count);
        _blocks.Add(block);
        _current = block;
        WriteBlockStart(block);
        return block;
    }

    /// <summary>Ends the open block: a thinking block gets its signature first.</summary>
    private void Close()
    {
        if (_current is not { Done: false } block)
        {
            return;
        }

        _current = null;
        block.Done = true;
        if (block.Kind == BlockKind.Thinking)
        {
            block.Signature = _context.Seal(block.Text.ToString());
        }

        if (_json is null)
        {
            return;
        }

        if (block.Kind == BlockKind.Thinking)
        {
            StartDelta(block, "signature_delta"u8);
            _json.WriteString("signature"u8, block.Signature);
            EndDelta();
        }

        StartEvent("content_block_stop"u8);
        _json.WriteNumber("index"u8, block.Index);
        EndEvent();
    }

    private enum BlockKind
    {
        Thinking,
        Text,
        ToolUse,
    }

    private sealed class Block(BlockKind kind, int index)
    {
        public BlockKind Kind { get; } = kind;

        public int Index { get; } = index;

        public StringBuilder Text { get; } = new();

        public string? Id { get; init; }

        public string? Name { get; init; }

        public string? Signature { get; set; }

        public bool Done { get; set; }
    }
}
