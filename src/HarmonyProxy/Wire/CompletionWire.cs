using System.Buffers;

namespace HarmonyProxy.Wire;

/// <summary>A translated completion collected into one JSON body, for clients that did not stream.</summary>
internal interface ICompletionBody : ICompletionSink
{
    /// <summary>The response body once the completion finished.</summary>
    byte[] ToJson();
}

/// <summary>
/// The API a client speaks, as the shape its completion leaves in: chat completions
/// (<see cref="ChatCompletionWire"/>) or the Responses API. The relay, the attempts and the
/// endings are the same for both; only the sink the translator writes to differs.
/// </summary>
internal interface ICompletionWire
{
    /// <summary>A sink writing the client's SSE events into <paramref name="events"/>.</summary>
    ICompletionSink OpenStream(IBufferWriter<byte> events);

    /// <summary>A sink collecting one JSON body; a retry before output opens a new one.</summary>
    ICompletionBody OpenBody();

    /// <summary>The request field that holds the conversation, as an error's <c>param</c> names it (a prompt too long for the context).</summary>
    string ConversationParam { get; }

    /// <summary>
    /// The message of a prompt too long for llama-server's context, in the words the API's clients
    /// act on (OpenAI's clients read the code; Claude Code compacts on <c>prompt is too long: …</c>).
    /// </summary>
    string ContextOverflowMessage(int? promptTokens, int? contextTokens, string message) => message;

    /// <summary>What a stream idle for the keep-alive interval is sent: an SSE comment, or the API's own ping event.</summary>
    ReadOnlyMemory<byte> KeepAlive => KeepAliveComment;

    /// <summary>An SSE comment: every client's parser skips it.</summary>
    static readonly ReadOnlyMemory<byte> KeepAliveComment = SseChunkWriter.KeepAlive.ToArray();
}

/// <summary>OpenAI Chat Completions: <c>chat.completion.chunk</c> events, or one <c>chat.completion</c>.</summary>
/// <param name="reasoningFields">Which field(s) carry reasoning.</param>
internal sealed class ChatCompletionWire(ReasoningFields reasoningFields) : ICompletionWire
{
    public ICompletionSink OpenStream(IBufferWriter<byte> events) => new SseChunkWriter(events, reasoningFields);

    public ICompletionBody OpenBody() => new CompletionAccumulator(reasoningFields);

    public string ConversationParam => "messages";
}
