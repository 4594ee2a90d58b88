namespace HarmonyProxy.Wire;

/// <summary>What one upstream SSE event meant.</summary>
internal enum UpstreamEventKind
{
    /// <summary>A chunk (or a whole non-streaming completion) was taken in.</summary>
    Chunk,

    /// <summary><c>data: [DONE]</c>.</summary>
    Done,

    /// <summary>An in-stream error object (llama-server's mid-stream parse failures).</summary>
    Error,

    /// <summary>Not JSON, or not an object: ignored.</summary>
    Invalid,
}

/// <summary>An error upstream reported inside the stream.</summary>
internal sealed record UpstreamStreamError(string Message, string Type, string? Code);

/// <summary>
/// What a llama-server chunk says, as <see cref="LlamaServerChunkReader"/> reads it: plain values
/// and text spans, never JSON (except log probabilities and usage, handed on as the bytes they
/// came in). A choice's logprobs arrive before its delta's text, so they can go out with it.
/// </summary>
internal interface ILlamaServerChunkHandler
{
    /// <summary>True until a chunk's identity (id, model, created) has been taken.</summary>
    bool AwaitingIdentity { get; }

    void Identity(string? id, string? model, long created, string? systemFingerprint);

    /// <summary><c>delta.content</c> (or <c>message.content</c>); valid only during the call.</summary>
    void Content(ReadOnlySpan<char> text);

    /// <summary><c>reasoning_content</c> (or <c>reasoning</c>); valid only during the call.</summary>
    void Reasoning(ReadOnlySpan<char> text);

    /// <summary>One <c>tool_calls</c> entry: its index, and whichever of id, name and arguments it carries.</summary>
    void ToolCall(int index, string? id, string? name, ReadOnlySpan<char> arguments);

    /// <summary>The JSON array of <c>logprobs.content</c>.</summary>
    void Logprobs(ReadOnlySpan<byte> contentArrayJson);

    /// <summary>The <c>usage</c> object.</summary>
    void Usage(ReadOnlySpan<byte> usageJson);

    void FinishReason(string reason);

    void Error(UpstreamStreamError error);
}
