using System.Buffers;
using System.Text;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>
/// Collects a translated completion into one <c>chat.completion</c> JSON body for clients that
/// did not ask to stream. A call cut by <c>length</c> is kept with its arguments as far as they
/// came, as in a stream and as OpenAI does: <c>finish_reason: length</c> tells the client.
/// </summary>
/// <param name="reasoningField">Which field holds the reasoning: <c>reasoning_content</c> (any other mode), <c>reasoning</c>, or both.</param>
internal sealed class CompletionAccumulator(ReasoningFields reasoningFields = ReasoningFields.ReasoningContent) : ICompletionBody
{
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private readonly List<(string Id, string Name, StringBuilder Arguments)> _toolCalls = [];
    private CompletionEnvelope? _envelope;
    private bool _hasContent;
    private bool _hasReasoning;
    private FinishReason? _finishReason;
    private byte[]? _usage;
    private LogprobEntries? _logprobs;

    /// <summary>Set when the completion failed instead of finishing.</summary>
    public UpstreamStreamError? Error { get; private set; }

    public void Begin(CompletionEnvelope envelope) => _envelope = envelope;

    public void Content(ReadOnlySpan<char> text)
    {
        _hasContent = true;
        _content.Append(text);
    }

    public void Reasoning(ReadOnlySpan<char> text)
    {
        _hasReasoning = true;
        _reasoning.Append(text);
    }

    public void ToolCallStart(int index, string id, string name) => _toolCalls.Add((id, name, new StringBuilder()));

    public void ToolCallArguments(int index, ReadOnlySpan<char> fragment) => _toolCalls[index].Arguments.Append(fragment);

    public void Logprobs(ReadOnlySpan<byte> contentArrayJson) => (_logprobs ??= new LogprobEntries()).Add(contentArrayJson);

    public void Finish(FinishReason finishReason, ReadOnlySpan<byte> usageJson)
    {
        _finishReason = finishReason;
        _usage = usageJson.IsEmpty ? null : usageJson.ToArray();
    }

    public void Fail(string message, string type, string? code) => Error = new UpstreamStreamError(message, type, code);

    /// <summary>The <c>chat.completion</c> body.</summary>
    public byte[] ToJson()
    {
        // The translator begins every body; an envelope is missing only if it was never used.
        var envelope = _envelope ?? new CompletionEnvelope("chatcmpl-proxy", string.Empty, 0, null);
        var calls = _toolCalls
            .Select(call => (call.Id, call.Name, Arguments: call.Arguments.ToString()))
            .ToList();
        var finish = _finishReason ?? FinishReason.Stop;

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            envelope.WriteStart(json, "chat.completion");
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if (_hasContent)
            {
                json.WriteString("content", _content.ToString());
            }
            else
            {
                json.WriteNull("content");
            }

            if (_hasReasoning)
            {
                var reasoning = _reasoning.ToString();
                if (reasoningFields.HasFlag(ReasoningFields.ReasoningContent))
                {
                    json.WriteString("reasoning_content", reasoning);
                }

                if (reasoningFields.HasFlag(ReasoningFields.Reasoning))
                {
                    json.WriteString("reasoning", reasoning);
                }
            }

            if (calls.Count > 0)
            {
                json.WriteStartArray("tool_calls");
                foreach (var call in calls)
                {
                    json.WriteStartObject();
                    json.WriteString("id", call.Id);
                    json.WriteString("type", "function");
                    json.WriteStartObject("function");
                    json.WriteString("name", call.Name);
                    json.WriteString("arguments", call.Arguments);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            if (_logprobs is { IsEmpty: false } logprobs)
            {
                var entries = new ArrayBufferWriter<byte>();
                logprobs.WriteObject(entries);
                json.WritePropertyName("logprobs");
                json.WriteRawValue(entries.WrittenSpan, skipInputValidation: true);
            }
            else
            {
                json.WriteNull("logprobs");
            }

            json.WriteString("finish_reason", finish.Name);
            json.WriteEndObject();
            json.WriteEndArray();
            if (_usage is not null)
            {
                json.WritePropertyName("usage");
                json.WriteRawValue(_usage, skipInputValidation: true);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
