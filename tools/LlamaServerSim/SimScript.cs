namespace LlamaServerSim;

/// <summary>How llama-server renders gpt-oss output (DESIGN.md, "The three upstream flavours").</summary>
public enum SimFlavour
{
    /// <summary>Harmony tags as text in <c>content</c> (--no-jinja, --skip-chat-parsing).</summary>
    Raw,

    /// <summary>Special tokens not printed: <c>analysisWe…assistantfinalHi</c>.</summary>
    Stripped,

    /// <summary>llama-server's own parsing: <c>reasoning_content</c>, <c>content</c>, <c>tool_calls</c>.</summary>
    Parsed,
}

/// <summary>
/// What the simulator does for one request. Unset fields fall back to the simulator's
/// defaults; faults are injected in the order a real server would hit them.
/// </summary>
public sealed record SimScript
{
    public SimFlavour? Flavour { get; init; }

    /// <summary>Replay this raw Harmony text (raw and stripped flavours) instead of a built-in transcript.</summary>
    public string? RawText { get; init; }

    /// <summary>Send these bytes as the whole response body (SSE for streaming requests, JSON otherwise) instead of a transcript.</summary>
    public byte[]? RawBody { get; init; }

    /// <summary>The content type <see cref="RawBody"/> is sent with (a proxy's HTML error page); SSE or JSON by the request when null.</summary>
    public string? RawContentType { get; init; }

    /// <summary>Built-in transcript: answer, tool_call, after_tool, preamble_tool, analysis_only; chosen from the request when null.</summary>
    public string? Transcript { get; init; }

    /// <summary>Upstream finish reason (stop, length); tool_calls is reported for a parsed tool call.</summary>
    public string? FinishReason { get; init; }

    public double? TokensPerSecond { get; init; }

    /// <summary>Answer with this status and llama-server's error body instead of streaming.</summary>
    public int? FailStatus { get; init; }

    public string FailMessage { get; init; } = "Loading model";

    /// <summary>Close the connection before sending any byte.</summary>
    public bool ResetBeforeFirstByte { get; init; }

    /// <summary>Wait this long before the first token (prompt processing).</summary>
    public TimeSpan StallBeforeFirstToken { get; init; }

    /// <summary>After this many tokens, stall for <see cref="StallDuration"/>.</summary>
    public int? StallAfterTokens { get; init; }

    public TimeSpan StallDuration { get; init; }

    /// <summary>After this many tokens, send llama-server's mid-stream error event and close.</summary>
    public int? ErrorAfterTokens { get; init; }

    public string ErrorMessage { get; init; } = "Failed to parse input at pos 0: <|channel|>??";

    /// <summary>The error event's <c>code</c> (its <c>type</c> follows: 503 is <c>unavailable_error</c>).</summary>
    public int ErrorCode { get; init; } = 500;

    /// <summary>Frame the error event as builds before Sep 2025 did: <c>error: {…}</c>, then <c>data: [DONE]</c>.</summary>
    public bool LegacyErrorFraming { get; init; }

    /// <summary>Send the error event right after the transcript's reasoning (parsed flavour).</summary>
    public bool ErrorAfterReasoning { get; init; }

    /// <summary>After this many tokens, abort the connection.</summary>
    public int? ResetAfterTokens { get; init; }

    /// <summary>Awaited before each token is sent (index of the token); tests release tokens one by one.</summary>
    public Func<int, CancellationToken, Task>? Gate { get; init; }

    /// <summary>Called right after token <c>i</c> was written and flushed.</summary>
    public Action<int>? OnTokenSent { get; init; }
}
