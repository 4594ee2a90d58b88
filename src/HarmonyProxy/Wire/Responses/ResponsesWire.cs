using System.Buffers;

namespace HarmonyProxy.Wire.Responses;

/// <summary>The Responses API as a completion's shape: <see cref="ResponsesOutput"/> streaming or collecting.</summary>
internal sealed class ResponsesWire(ResponseContext context) : ICompletionWire
{
    /// <summary>The output the completion was last written to (a retry before output opens a new one), or null before any.</summary>
    public ResponsesOutput? Output { get; private set; }

    public ICompletionSink OpenStream(IBufferWriter<byte> events) => Output = new ResponsesOutput(context, events);

    public ICompletionBody OpenBody() => Output = new ResponsesOutput(context, events: null);

    public string ConversationParam => "input";
}
