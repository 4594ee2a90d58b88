using System.Buffers;

namespace HarmonyProxy.OpenAi.Anthropic;

/// <summary>The Messages API as a completion's shape: <see cref="MessagesOutput"/> streaming or collecting.</summary>
internal sealed class MessagesWire(MessagesContext context) : ICompletionWire
{
    public ICompletionSink OpenStream(IBufferWriter<byte> events) => new MessagesOutput(context, events);

    public ICompletionBody OpenBody() => new MessagesOutput(context, events: null);

    public string ConversationParam => "messages";
}
