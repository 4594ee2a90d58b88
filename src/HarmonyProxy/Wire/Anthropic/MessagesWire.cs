using System.Buffers;

namespace HarmonyProxy.Wire.Anthropic;

/// <summary>The Messages API as a completion's shape: <see cref="MessagesOutput"/> streaming or collecting.</summary>
internal sealed class MessagesWire(MessagesContext context) : ICompletionWire
{
    public ICompletionSink OpenStream(IBufferWriter<byte> events) => new MessagesOutput(context, events);

    public ICompletionBody OpenBody() => new MessagesOutput(context, events: null);

    public string ConversationParam => "messages";

    public string ContextOverflowMessage(int? promptTokens, int? contextTokens, string message) =>
        promptTokens is { } prompt && contextTokens is { } context
            ? $"prompt is too long: {prompt} tokens > {context} maximum"
            : "prompt is too long: " + message;

    /// <summary>Anthropic's own keep-alive, which its SDKs skip: it keeps Claude Code waiting through long prefills and hidden reasoning.</summary>
    public ReadOnlyMemory<byte> KeepAlive => Ping;

    private static readonly ReadOnlyMemory<byte> Ping = "event: ping\ndata: {\"type\":\"ping\"}\n\n"u8.ToArray();
}
