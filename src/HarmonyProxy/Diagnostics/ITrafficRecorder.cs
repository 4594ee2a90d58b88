namespace HarmonyProxy.Diagnostics;

/// <summary>
/// What the request inspector keeps of one request's traffic, bounded: what the client sent, what
/// went to llama-server on each attempt, llama-server's output as it came, what the client got,
/// and the ending. A request feature, present only while the inspector is on; every call copies
/// what it is given (the spans are reused buffers).
/// </summary>
internal interface ITrafficRecorder
{
    void ClientRequest(ReadOnlySpan<byte> body);

    /// <param name="route">llama-server's route: <c>chat/completions</c>, or <c>completion</c> for a continuation.</param>
    void UpstreamRequest(int attempt, string route, ReadOnlySpan<byte> body);

    /// <summary>One upstream event's data (an SSE <c>data:</c> line's value, or a whole JSON body).</summary>
    void UpstreamEvent(ReadOnlySpan<byte> data);

    /// <summary>Bytes written to the client (SSE events or the JSON body).</summary>
    void ClientResponse(ReadOnlySpan<byte> bytes);

    void Finished(CompletionResult result);
}
