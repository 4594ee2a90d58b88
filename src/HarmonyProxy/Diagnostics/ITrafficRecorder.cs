namespace HarmonyProxy.Diagnostics;

/// <summary>Which part of a turn a piece of text is.</summary>
internal enum TrafficPart
{
    Content,
    Reasoning,
    ToolCall,
    Error,
}

/// <summary>
/// What the request inspector keeps of one request's traffic, bounded: what the client sent, what
/// went to llama-server on each attempt, the text llama-server produced as it came (Harmony tags
/// and all), what the client was given (reasoning, content, tool calls), and the ending. A request
/// feature, present only while the inspector is on; every call copies what it is given (the spans
/// are reused buffers). Text rather than the wire's bytes: a token is a few characters, its SSE
/// event two hundred bytes.
/// </summary>
internal interface ITrafficRecorder
{
    void ClientRequest(ReadOnlySpan<byte> body);

    /// <param name="route">llama-server's route: <c>chat/completions</c>, or <c>completion</c> for a continuation.</param>
    void UpstreamRequest(int attempt, string route, ReadOnlySpan<byte> body);

    /// <summary>A piece of what llama-server produced; <paramref name="toolName"/> starts a tool call it parsed itself.</summary>
    void UpstreamText(TrafficPart part, ReadOnlySpan<char> text, string? toolName = null);

    /// <summary>A piece of what the client was given; <paramref name="toolName"/> starts a tool call.</summary>
    void ClientText(TrafficPart part, ReadOnlySpan<char> text, string? toolName = null);

    void Finished(CompletionResult result);
}
