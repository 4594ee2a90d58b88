using System.Buffers;
using System.Text.Json;

namespace HarmonyProxy.Wire.Responses;

/// <summary>The SSE framing and the objects the events carry.</summary>
internal sealed partial class ResponsesOutput
{
    /// <summary>Ends the open item: its <c>.done</c> events, with the full text, and <c>output_item.done</c>.</summary>
    private void CloseCurrent(string status = "completed")
    {
        if (_current is not { Done: false } item)
        {
            return;
        }

        _current = null;
        item.Status = status;
        var text = item.Text.ToString();
        switch (item.Kind)
        {
            case ResponseItemKind.Reasoning:
                item.EncryptedContent = _context.Seal?.Invoke(text);
                WriteTextDone("response.reasoning_text.done"u8, item, text);
                break;
            case ResponseItemKind.Message:
                WriteTextDone("response.output_text.done"u8, item, text);
                break;
            case ResponseItemKind.FunctionCall when _json is not null:
                StartEvent("response.function_call_arguments.done"u8);
                WriteItemPosition(item);
                _json.WriteString("name"u8, item.Tool?.Name);
                _json.WriteString("arguments"u8, text);
                EndEvent();
                break;
            case ResponseItemKind.CustomToolCall:
                item.CustomInput = ResponseItem.CustomInputOf(text);
                if (_json is not null)
                {
                    StartEvent("response.custom_tool_call_input.delta"u8);
                    WriteItemPosition(item);
                    _json.WriteString("delta"u8, item.CustomInput);
                    EndEvent();
                    StartEvent("response.custom_tool_call_input.done"u8);
                    WriteItemPosition(item);
                    _json.WriteString("input"u8, item.CustomInput);
                    EndEvent();
                }

                break;
        }

        WriteItemEvent("response.output_item.done"u8, item);
    }

    /// <summary><c>*.text.done</c> then <c>content_part.done</c> for a reasoning or message item.</summary>
    private void WriteTextDone(ReadOnlySpan<byte> type, ResponseItem item, string text)
    {
        if (_json is null)
        {
            return;
        }

        WriteTextEvent(type, item, "text"u8, text);
        StartEvent("response.content_part.done"u8);
        WriteItemPosition(item);
        _json.WriteNumber("content_index"u8, 0);
        _json.WritePropertyName("part"u8);
        WritePart(item, text);
        EndEvent();
    }

    /// <summary>A text event of an item's one content part (a delta or the done text); answer text carries empty log probabilities.</summary>
    private void WriteTextEvent(ReadOnlySpan<byte> type, ResponseItem item, ReadOnlySpan<byte> field, ReadOnlySpan<char> text)
    {
        StartEvent(type);
        WriteItemPosition(item);
        _json!.WriteNumber("content_index"u8, 0);
        _json.WriteString(field, text);
        if (item.Kind == ResponseItemKind.Message)
        {
            _json.WriteStartArray("logprobs"u8);
            _json.WriteEndArray();
        }

        EndEvent();
    }

    private void WritePart(ResponseItem item, string text)
    {
        if (item.Kind == ResponseItemKind.Message)
        {
            ResponseItem.WriteTextPart(_json!, text);
            return;
        }

        _json!.WriteStartObject();
        _json.WriteString("type"u8, "reasoning_text"u8);
        _json.WriteString("text"u8, text);
        _json.WriteEndObject();
    }

    private void WriteItemEvent(ReadOnlySpan<byte> type, ResponseItem item)
    {
        if (_json is null)
        {
            return;
        }

        StartEvent(type);
        _json.WriteNumber("output_index"u8, item.OutputIndex);
        _json.WritePropertyName("item"u8);
        item.Write(_json, _context.Seal is not null);
        EndEvent();
    }

    private void WriteResponseEvent(ReadOnlySpan<byte> type)
    {
        if (_json is null)
        {
            return;
        }

        StartEvent(type);
        _json.WritePropertyName("response"u8);
        WriteResponse(_json);
        EndEvent();
    }

    private void WriteItemPosition(ResponseItem item)
    {
        _json!.WriteString("item_id"u8, item.Id);
        _json.WriteNumber("output_index"u8, item.OutputIndex);
    }

    /// <summary><c>event: type</c>, then the data object opened with its type; the event's fields follow.</summary>
    private void StartEvent(ReadOnlySpan<byte> type) => SseEventFraming.Start(_events!, _json!, type);

    private void EndEvent()
    {
        _json!.WriteNumber("sequence_number"u8, _sequence++);
        SseEventFraming.End(_events!, _json);
    }

    /// <summary>The response object in its present state.</summary>
    private void WriteResponse(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, _context.Id);
        json.WriteString("object"u8, "response"u8);
        json.WriteNumber("created_at"u8, _context.CreatedAt);
        json.WriteString("status"u8, Status);
        json.WriteBoolean("background"u8, false);
        if (Error is { } error)
        {
            json.WriteStartObject("error"u8);
            json.WriteString("code"u8, error.Code ?? "server_error");
            json.WriteString("message"u8, error.Message);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("error"u8);
        }

        if (IncompleteReason is { } reason)
        {
            json.WriteStartObject("incomplete_details"u8);
            json.WriteString("reason"u8, reason);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details"u8);
        }

        json.WriteString("model"u8, _model ?? _context.Model ?? string.Empty);
        json.WriteStartArray("output"u8);
        foreach (var item in _items)
        {
            item.Write(json, _context.Seal is not null);
        }

        json.WriteEndArray();
        json.WritePropertyName("usage"u8);
        if (_usage is not null)
        {
            json.WriteRawValue(_usage, skipInputValidation: true);
        }
        else
        {
            json.WriteNullValue();
        }

        WriteEcho(json);
        json.WriteEndObject();
    }

    /// <summary>The request's settings (instructions, tools, text…), built once per request and repeated in each response object.</summary>
    private void WriteEcho(Utf8JsonWriter json)
    {
        foreach (var (name, value) in _context.Echo)
        {
            json.WritePropertyName(name);
            if (value is null)
            {
                json.WriteNullValue();
            }
            else
            {
                value.WriteTo(json, OpenAiJson.SerializerOptions);
            }
        }
    }
}
