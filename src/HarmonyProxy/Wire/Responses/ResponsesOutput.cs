using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Wire.Responses;

/// <summary>What every response object of one request shares.</summary>
/// <param name="Id">The response id (<c>resp_…</c>).</param>
/// <param name="CreatedAt">Unix seconds.</param>
/// <param name="Model">The model the client named, or null to take llama-server's.</param>
/// <param name="Echo">The request's settings as response properties (<see cref="ResponsesRequest.Echo"/>); read only.</param>
/// <param name="Tools">Chat function names back to the client's tools.</param>
/// <param name="Seal">Seals reasoning for <c>encrypted_content</c>; null when the client did not ask for it.</param>
internal sealed record ResponseContext(string Id, long CreatedAt, string? Model, JsonObject Echo, ResponsesTools Tools, Func<string, string?>? Seal);

/// <summary>
/// The Responses API's side of a completion: the translator's calls become output items
/// (reasoning, message, function_call, custom_tool_call) and, when streaming, the events OpenAI
/// sends for them, each with its <c>sequence_number</c>: <c>response.created</c>,
/// <c>response.in_progress</c>; per item <c>output_item.added</c>, <c>content_part.added</c>,
/// the deltas, their <c>.done</c>, <c>content_part.done</c>, <c>output_item.done</c>; then
/// <c>response.completed</c>, <c>response.incomplete</c> or <c>response.failed</c>.
/// </summary>
internal sealed partial class ResponsesOutput : ICompletionBody, IDisposable
{
    private readonly ResponseContext _context;
    private readonly IBufferWriter<byte>? _events;
    private readonly Utf8JsonWriter? _json;
    private readonly List<ResponseItem> _items = [];
    private readonly Dictionary<int, ResponseItem> _calls = [];
    private ResponseItem? _current;
    private int _sequence;
    private string? _model;
    private byte[]? _usage;

    /// <param name="events">Where SSE events go; null for a JSON body.</param>
    public ResponsesOutput(ResponseContext context, IBufferWriter<byte>? events)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _events = events;
        _json = events is null ? null : new Utf8JsonWriter(events, OpenAiJson.WriterOptions);
    }

    /// <summary><c>in_progress</c>, then <c>completed</c>, <c>incomplete</c> or <c>failed</c>.</summary>
    public string Status { get; private set; } = "in_progress";

    public string? IncompleteReason { get; private set; }

    public UpstreamStreamError? Error { get; private set; }

    public IReadOnlyList<ResponseItem> Items => _items;

    public void Begin(CompletionEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        _model = _context.Model ?? envelope.Model;
        WriteResponseEvent("response.created"u8);
        WriteResponseEvent("response.in_progress"u8);
    }

    public void Reasoning(ReadOnlySpan<char> text) => TextDelta(ResponseItemKind.Reasoning, "rs", "response.reasoning_text.delta"u8, text);

    public void Content(ReadOnlySpan<char> text) => TextDelta(ResponseItemKind.Message, "msg", "response.output_text.delta"u8, text);

    public void ToolCallStart(int index, string id, string name)
    {
        CloseCurrent();
        var tool = _context.Tools.Resolve(name);
        var kind = tool.Custom ? ResponseItemKind.CustomToolCall : ResponseItemKind.FunctionCall;
        var item = new ResponseItem(kind, ItemId(tool.Custom ? "ctc" : "fc"), _items.Count) { CallId = id, Tool = tool };
        _items.Add(item);
        _calls[index] = item;
        _current = item;
        WriteItemEvent("response.output_item.added"u8, item);
    }

    public void ToolCallArguments(int index, ReadOnlySpan<char> fragment)
    {
        if (!_calls.TryGetValue(index, out var item))
        {
            return;
        }

        item.Text.Append(fragment);
        // A custom tool's input is JSON-escaped inside the arguments until the call ends: its
        // one delta goes out with the .done.
        if (_json is null || item.Done || item.Kind == ResponseItemKind.CustomToolCall)
        {
            return;
        }

        StartEvent("response.function_call_arguments.delta"u8);
        WriteItemPosition(item);
        _json.WriteString("delta"u8, fragment);
        EndEvent();
    }

    /// <summary>Log probabilities are not carried into Responses output (gpt-oss clients do not ask for them).</summary>
    public void Logprobs(ReadOnlySpan<byte> contentArrayJson)
    {
    }

    public void Finish(FinishReason finishReason, ReadOnlySpan<byte> usageJson)
    {
        var cut = finishReason.IsCut;
        CloseCurrent(cut ? "incomplete" : "completed");
        _usage = usageJson.IsEmpty ? null : ResponsesUsage.FromChat(usageJson);
        if (cut)
        {
            Status = "incomplete";
            IncompleteReason = finishReason == FinishReason.Length ? "max_output_tokens" : "content_filter";
            WriteResponseEvent("response.incomplete"u8);
            return;
        }

        Status = "completed";
        WriteResponseEvent("response.completed"u8);
    }

    public void Fail(string message, string type, string? code)
    {
        CloseCurrent("incomplete");
        Status = "failed";
        // Responses clients read error.code as one of OpenAI's names (Codex: context_length_exceeded
        // is final, the rest are retried); llama-server's numeric codes say nothing to them.
        Error = new UpstreamStreamError(message, type, code is null || code.All(char.IsAsciiDigit) ? "server_error" : code);
        WriteResponseEvent("response.failed"u8);
    }

    /// <summary>The response object as <c>POST</c> (without <c>stream</c>) and <c>GET</c> return it.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            WriteResponse(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The output items as a JSON array, for the store.</summary>
    public byte[] OutputItemsJson()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            json.WriteStartArray();
            foreach (var item in _items)
            {
                item.Write(json, withEncryptedContent: false);
            }

            json.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _json?.Dispose();

    /// <summary>Reasoning or answer text: onto the open item of its kind (a new one if needed), and its delta event.</summary>
    private void TextDelta(ResponseItemKind kind, string prefix, ReadOnlySpan<byte> eventType, ReadOnlySpan<char> text)
    {
        var item = Current(kind, prefix);
        item.Text.Append(text);
        if (_json is null)
        {
            return;
        }

        WriteTextEvent(eventType, item, "delta"u8, text);
    }

    /// <summary>The item being written if it is of <paramref name="kind"/>, else a new one (the open one is done first).</summary>
    private ResponseItem Current(ResponseItemKind kind, string prefix)
    {
        if (_current is { Done: false } open && open.Kind == kind)
        {
            return open;
        }

        CloseCurrent();
        var item = new ResponseItem(kind, ItemId(prefix), _items.Count);
        _items.Add(item);
        _current = item;
        WriteItemEvent("response.output_item.added"u8, item);
        if (_json is not null)
        {
            StartEvent("response.content_part.added"u8);
            WriteItemPosition(item);
            _json.WriteNumber("content_index"u8, 0);
            _json.WritePropertyName("part"u8);
            WritePart(item, string.Empty);
            EndEvent();
        }

        return item;
    }

    private string ItemId(string prefix) => $"{prefix}_{_context.Id.AsSpan(5)}{_items.Count:x2}";
}
