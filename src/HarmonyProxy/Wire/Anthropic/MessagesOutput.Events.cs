using System.Text.Json;

namespace HarmonyProxy.Wire.Anthropic;

/// <summary>The SSE events and the message object the blocks are written as.</summary>
internal sealed partial class MessagesOutput
{
    /// <summary>
    /// One delta of a block. Its text is kept where it is read again: a thinking block's, for the
    /// signature that seals it; every block's in a JSON body. A streamed text or call is only written.
    /// </summary>
    private void Delta(Block block, ReadOnlySpan<byte> deltaType, ReadOnlySpan<byte> field, ReadOnlySpan<char> text, bool shown = true)
    {
        if (_json is null || block.Kind == BlockKind.Thinking)
        {
            block.Text.Append(text);
        }

        if (_json is null || !shown)
        {
            return;
        }

        StartDelta(block, deltaType);
        _json.WriteString(field, text);
        EndDelta();
    }

    private void WriteBlockStart(Block block)
    {
        if (_json is null)
        {
            return;
        }

        StartEvent("content_block_start"u8);
        _json.WriteNumber("index"u8, block.Index);
        _json.WritePropertyName("content_block"u8);
        _json.WriteStartObject();
        switch (block.Kind)
        {
            case BlockKind.Thinking:
                _json.WriteString("type"u8, "thinking"u8);
                _json.WriteString("thinking"u8, ""u8);
                _json.WriteString("signature"u8, ""u8);
                break;
            case BlockKind.Text:
                _json.WriteString("type"u8, "text"u8);
                _json.WriteString("text"u8, ""u8);
                break;
            case BlockKind.ToolUse:
                _json.WriteString("type"u8, "tool_use"u8);
                _json.WriteString("id"u8, block.Id);
                _json.WriteString("name"u8, block.Name);
                _json.WriteStartObject("input"u8);
                _json.WriteEndObject();
                WriteDirectCaller(_json);
                break;
        }

        _json.WriteEndObject();
        EndEvent();
    }

    private void WriteMessage(Utf8JsonWriter json, bool withContent)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, _context.Id);
        json.WriteString("type"u8, "message"u8);
        json.WriteString("role"u8, "assistant"u8);
        json.WriteString("model"u8, _model ?? string.Empty);
        json.WriteStartArray("content"u8);
        if (withContent)
        {
            foreach (var block in _blocks)
            {
                WriteBlock(json, block);
            }
        }

        json.WriteEndArray();
        json.WriteString("stop_reason"u8, withContent ? _stopReason : null);
        json.WriteNull("stop_sequence"u8);
        WriteUsage(json);
        json.WriteEndObject();
    }

    private void WriteBlock(Utf8JsonWriter json, Block block)
    {
        json.WriteStartObject();
        switch (block.Kind)
        {
            case BlockKind.Thinking:
                json.WriteString("type"u8, "thinking"u8);
                json.WriteString("thinking"u8, _context.ShowThinking ? block.Text.ToString() : string.Empty);
                json.WriteString("signature"u8, block.Signature ?? _context.Seal(block.Text.ToString()));
                break;
            case BlockKind.Text:
                json.WriteString("type"u8, "text"u8);
                json.WriteString("text"u8, block.Text.ToString());
                break;
            case BlockKind.ToolUse:
                json.WriteString("type"u8, "tool_use"u8);
                json.WriteString("id"u8, block.Id);
                json.WriteString("name"u8, block.Name);
                json.WritePropertyName("input"u8);
                WriteInput(json, block.Text.ToString());
                WriteDirectCaller(json);
                break;
        }

        json.WriteEndObject();
    }

    /// <summary>Who made the call: the model itself (Anthropic's current API names it on every tool_use block, and its SDKs require it).</summary>
    private static void WriteDirectCaller(Utf8JsonWriter json)
    {
        json.WriteStartObject("caller"u8);
        json.WriteString("type"u8, "direct"u8);
        json.WriteEndObject();
    }

    /// <summary>A call's arguments as the <c>input</c> object; arguments that are not a JSON object (cut by length) become <c>{}</c>.</summary>
    private static void WriteInput(Utf8JsonWriter json, string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments.Length == 0 ? "{}" : arguments);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                document.RootElement.WriteTo(json);
                return;
            }
        }
        catch (JsonException)
        {
            // Falls through to the empty input.
        }

        json.WriteStartObject();
        json.WriteEndObject();
    }

    private void WriteUsage(Utf8JsonWriter json)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, _inputTokens);
        json.WriteNumber("output_tokens"u8, _outputTokens);
        json.WriteEndObject();
    }

    private void StartDelta(Block block, ReadOnlySpan<byte> deltaType)
    {
        StartEvent("content_block_delta"u8);
        _json!.WriteNumber("index"u8, block.Index);
        _json.WriteStartObject("delta"u8);
        _json.WriteString("type"u8, deltaType);
    }

    private void EndDelta()
    {
        _json!.WriteEndObject();
        EndEvent();
    }

    private void StartEvent(ReadOnlySpan<byte> name) => SseEventFraming.Start(_events!, _json!, name);

    private void EndEvent() => SseEventFraming.End(_events!, _json!);
}
