using HarmonyProxy.Diagnostics;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Completions;

/// <summary>What llama-server's chunks say (<see cref="LlamaServerChunkReader"/> reads them), taken in.</summary>
internal sealed partial class CompletionTranslator : ILlamaServerChunkHandler
{
    private readonly LlamaServerChunkReader _reader = new();

    /// <summary>The last in-stream error upstream sent.</summary>
    public UpstreamStreamError? UpstreamError { get; private set; }

    /// <summary>The upstream's finish reason so far (null until its finish chunk).</summary>
    public string? UpstreamFinishReason => _upstreamFinish;

    /// <summary>The response's <c>created</c> (Unix seconds, from the forwarder's clock) when llama-server sends none.</summary>
    public long Created { get; init; }

    /// <summary>Takes one upstream SSE event's data (a chunk, a whole completion, an error, or [DONE]).</summary>
    public UpstreamEventKind ProcessEvent(ReadOnlySpan<byte> data)
    {
        var kind = _nativeCompletion ? _reader.ReadNativeCompletion(data, this) : _reader.Read(data, this);
        if (kind == UpstreamEventKind.Chunk)
        {
            ChunkRead = true;
        }

        return kind;
    }

    /// <summary>True once one completion chunk (or one whole completion) was read: a body without any is not a completion.</summary>
    public bool ChunkRead { get; private set; }

    bool ILlamaServerChunkHandler.AwaitingIdentity => !_begun;

    void ILlamaServerChunkHandler.Identity(string? id, string? model, long created, string? systemFingerprint) =>
        Begin(id, model, created, systemFingerprint);

    void ILlamaServerChunkHandler.Content(ReadOnlySpan<char> text)
    {
        Recorder?.UpstreamText(TrafficPart.Content, text);
        OnUpstreamContent(text);
    }

    void ILlamaServerChunkHandler.Reasoning(ReadOnlySpan<char> text)
    {
        Recorder?.UpstreamText(TrafficPart.Reasoning, text);
        OnUpstreamReasoning(text);
    }

    void ILlamaServerChunkHandler.ToolCall(int index, string? id, string? name, ReadOnlySpan<char> arguments)
    {
        Recorder?.UpstreamText(TrafficPart.ToolCall, arguments, name);
        OnUpstreamToolCall(index, id, name, arguments);
    }

    void ILlamaServerChunkHandler.Logprobs(ReadOnlySpan<byte> contentArrayJson) => _sink.Logprobs(contentArrayJson);

    void ILlamaServerChunkHandler.Usage(ReadOnlySpan<byte> usageJson) => _usage = usageJson.ToArray();

    void ILlamaServerChunkHandler.FinishReason(string reason) => _upstreamFinish = reason;

    void ILlamaServerChunkHandler.Error(UpstreamStreamError error)
    {
        Recorder?.UpstreamText(TrafficPart.Error, error.Message);
        UpstreamError = error;
    }

    /// <summary>The envelope (id, model, created) from upstream's first chunk, or made up when the output starts without one.</summary>
    private void EnsureBegun()
    {
        if (!_begun)
        {
            Begin(null, null, 0, null);
        }
    }

    private void Begin(string? id, string? model, long created, string? fingerprint)
    {
        _begun = true;
        _sink.Begin(new CompletionEnvelope(
            string.IsNullOrEmpty(id) ? NewId("chatcmpl-") : id,
            model ?? string.Empty,
            created > 0 ? created : Created,
            fingerprint));
    }
}
