using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>The response's identity, taken from upstream's first chunk.</summary>
internal sealed record CompletionEnvelope(string Id, string Model, long Created, string? SystemFingerprint)
{
    /// <summary>Opens the response object and writes the identity fields every OpenAI completion starts with.</summary>
    /// <param name="objectType"><c>chat.completion</c> or <c>chat.completion.chunk</c>.</param>
    public void WriteStart(Utf8JsonWriter json, string objectType)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteString("id", Id);
        json.WriteString("object", objectType);
        json.WriteNumber("created", Created);
        json.WriteString("model", Model);
        if (SystemFingerprint is not null)
        {
            json.WriteString("system_fingerprint", SystemFingerprint);
        }
    }
}

/// <summary>
/// Where a translated completion goes: OpenAI SSE chunks for streaming clients
/// (<see cref="SseChunkWriter"/>) or one JSON body (<see cref="CompletionAccumulator"/>).
/// </summary>
internal interface ICompletionSink
{
    void Begin(CompletionEnvelope envelope);

    void Content(ReadOnlySpan<char> text);

    void Reasoning(ReadOnlySpan<char> text);

    void ToolCallStart(int index, string id, string name);

    void ToolCallArguments(int index, ReadOnlySpan<char> fragment);

    /// <summary>
    /// Upstream's per-token log probabilities (the JSON array of <c>logprobs.content</c>),
    /// attached to the next answer-text delta, else to the finish: passed through, never lost.
    /// </summary>
    void Logprobs(ReadOnlySpan<byte> contentArrayJson);

    /// <summary>The one finish; <paramref name="usageJson"/> is upstream's usage object (empty when none or not asked for).</summary>
    void Finish(FinishReason finishReason, ReadOnlySpan<byte> usageJson);

    /// <summary>Upstream failed after output started: one OpenAI error instead of a finish.</summary>
    void Fail(string message, string type, string? code);
}
