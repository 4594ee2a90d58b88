namespace HarmonyProxy.Completions;

/// <summary>What one upstream SSE event meant.</summary>
internal enum UpstreamEventKind
{
    /// <summary>A chunk (or a whole non-streaming completion) was taken in.</summary>
    Chunk,

    /// <summary><c>data: [DONE]</c>.</summary>
    Done,

    /// <summary>An in-stream error object (llama-server's mid-stream parse failures).</summary>
    Error,

    /// <summary>Not JSON, or not an object: ignored and counted.</summary>
    Invalid,
}

/// <summary>An error upstream reported inside the stream.</summary>
internal sealed record UpstreamStreamError(string Message, string Type, string? Code);
