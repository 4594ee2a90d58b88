namespace HarmonyProxy.Diagnostics;

/// <summary>Every log event of the service, as source-generated <see cref="LoggerMessageAttribute"/> methods. No prompt or answer text is ever an argument.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "CompletionFinished", Level = LogLevel.Information,
        Message = "Completion {RequestId} model={Model} stream={Stream} status={Status} outcome={Outcome} attempts={UpstreamAttempts} recovery={Recovery} ttft={TimeToFirstTokenMs}ms duration={DurationMs}ms content_chunks={ContentChunks} reasoning_chunks={ReasoningChunks} tool_calls={ToolCalls} fallback={FallbackUsed} finish={FinishReason} parse={ParseFlags}")]
    public static partial void CompletionFinished(ILogger logger, string requestId, string? model, bool stream, int status, string outcome, int upstreamAttempts, string? recovery,
        double? timeToFirstTokenMs, double durationMs, int contentChunks, int reasoningChunks, int toolCalls, bool fallbackUsed, string? finishReason, string parseFlags);

    [LoggerMessage(EventId = 2, EventName = "RequestRejected", Level = LogLevel.Information,
        Message = "Request {RequestId} rejected with {Status}: {Reason}")]
    public static partial void RequestRejected(ILogger logger, string requestId, int status, string reason);

    [LoggerMessage(EventId = 3, EventName = "UpstreamFailed", Level = LogLevel.Warning,
        Message = "Request {RequestId}: upstream failed before output with {Status} ({Code})")]
    public static partial void UpstreamFailed(ILogger logger, string requestId, int status, string code);

    [LoggerMessage(EventId = 4, EventName = "UpstreamStreamBroken", Level = LogLevel.Warning,
        Message = "Request {RequestId}: upstream stream broke after output started ({Code}); ending the client stream with an error event")]
    public static partial void UpstreamStreamBroken(ILogger logger, string requestId, string code);

    [LoggerMessage(EventId = 5, EventName = "ClientDisconnected", Level = LogLevel.Information,
        Message = "Request {RequestId}: client disconnected; upstream request cancelled")]
    public static partial void ClientDisconnected(ILogger logger, string requestId);

    [LoggerMessage(EventId = 7, EventName = "UpstreamAttemptRetried", Level = LogLevel.Warning,
        Message = "Request {RequestId}: upstream attempt {Attempt} broke before any output ({Code}); retrying")]
    public static partial void UpstreamAttemptRetried(ILogger logger, string requestId, int attempt, string code);

    [LoggerMessage(EventId = 8, EventName = "WatchdogFired", Level = LogLevel.Warning,
        Message = "Request {RequestId}: the {Watchdog} watchdog ended the generation; upstream request cancelled")]
    public static partial void WatchdogFired(ILogger logger, string requestId, string watchdog);

    [LoggerMessage(EventId = 9, EventName = "UpstreamExceptionDetail", Level = LogLevel.Warning,
        Message = "Request {RequestId}: upstream {ExceptionType}: {ExceptionMessage}")]
    public static partial void UpstreamExceptionDetail(ILogger logger, string requestId, string exceptionType, string exceptionMessage);

    [LoggerMessage(EventId = 10, EventName = "UpstreamRecoveryStarted", Level = LogLevel.Warning,
        Message = "Request {RequestId}: llama-server failed attempt {Attempt} with a {ErrorKind} ({Code}); asking again with {Recovery}")]
    public static partial void UpstreamRecoveryStarted(ILogger logger, string requestId, int attempt, string errorKind, string code, string recovery);

    [LoggerMessage(EventId = 11, EventName = "UpstreamRecoveryEnded", Level = LogLevel.Information,
        Message = "Request {RequestId}: {Recovery} {RecoveryOutcome}")]
    public static partial void UpstreamRecoveryEnded(ILogger logger, string requestId, string recovery, string recoveryOutcome);

    [LoggerMessage(EventId = 12, EventName = "UpstreamFound", Level = LogLevel.Information,
        Message = "llama-server at {Upstream}: {UpstreamState} Setup: build={Build} model={UpstreamModel} gpt_oss_template={GptOssTemplate} slots={Slots} n_ctx={ContextSize}")]
    public static partial void UpstreamFound(ILogger logger, string upstream, string upstreamState, string? build, string? upstreamModel, string gptOssTemplate, int? slots, int? contextSize);

    [LoggerMessage(EventId = 13, EventName = "UpstreamTemplateMismatch", Level = LogLevel.Warning,
        Message = "llama-server at {Upstream} serves {UpstreamModel} with a chat template that is not gpt-oss's (no <|channel|> in it): the model will not be prompted in Harmony; start llama-server with --jinja and the model's own template")]
    public static partial void UpstreamTemplateMismatch(ILogger logger, string upstream, string? upstreamModel);

    [LoggerMessage(EventId = 14, EventName = "UpstreamFirstResponse", Level = LogLevel.Information,
        Message = "llama-server's first completion: flavour={Flavour} (raw: Harmony tags in content; stripped: tag words only; parsed: llama-server split reasoning and tool calls itself; plain: no Harmony seen)")]
    public static partial void UpstreamFirstResponse(ILogger logger, string flavour);

    [LoggerMessage(EventId = 15, EventName = "RequestFinished",
        Message = "Request {RequestId} {Method} {Route} status={Status} duration={DurationMs}ms")]
    public static partial void RequestFinished(ILogger logger, LogLevel level, string requestId, string method, string route, int status, double durationMs);

    [LoggerMessage(EventId = 16, EventName = "DrainStarted", Level = LogLevel.Warning,
        Message = "Shutting down: not ready, new requests get 503; {OpenCompletions} open completions may finish for {DrainSeconds} s")]
    public static partial void DrainStarted(ILogger logger, int openCompletions, double drainSeconds);

    [LoggerMessage(EventId = 17, EventName = "DrainFinished", Level = LogLevel.Warning,
        Message = "Drain finished: {EndedCompletions} completions still open at the deadline were ended")]
    public static partial void DrainFinished(ILogger logger, int endedCompletions);

    [LoggerMessage(EventId = 18, EventName = "ResponsesPartsLeftOut", Level = LogLevel.Information,
        Message = "Request {RequestId}: left out what llama-server cannot serve: tools [{Tools}], input items [{Items}]")]
    public static partial void ResponsesPartsLeftOut(ILogger logger, string requestId, string tools, string items);

    [LoggerMessage(EventId = 19, EventName = "ResponsesReasoningUnreadable", Level = LogLevel.Warning,
        Message = "Request {RequestId}: {Count} encrypted_content reasoning blobs did not open (tampered, other keys, or expired); their plain text was used if sent")]
    public static partial void ResponsesReasoningUnreadable(ILogger logger, string requestId, int count);

    [LoggerMessage(EventId = 20, EventName = "StoreFailed", Level = LogLevel.Warning,
        Message = "The {Store} store failed to {Operation} ({Exception}: {Detail}); serving on without it (reasoning not restored, responses not stored); next warning in a minute at the earliest")]
    public static partial void StoreFailed(ILogger logger, string store, string operation, string exception, string detail);

    [LoggerMessage(EventId = 21, EventName = "RepeatedToolCall", Level = LogLevel.Warning,
        Message = "Request {RequestId}: the history ends with the same tool call {Count} times in a row; the model may be looping")]
    public static partial void RepeatedToolCall(ILogger logger, string requestId, int count);

    [LoggerMessage(EventId = 22, EventName = "UpstreamMovedToAnotherBackend", Level = LogLevel.Warning,
        Message = "Request {RequestId}: backend {From} failed before output ({Reason}); trying {To}")]
    public static partial void UpstreamMovedToAnotherBackend(ILogger logger, string requestId, string from, string to, string reason);

    [LoggerMessage(EventId = 23, EventName = "BackendProbeFailed", Level = LogLevel.Debug,
        Message = "Backend {Backend} did not answer its probe ({Exception})")]
    public static partial void BackendProbeFailed(ILogger logger, string backend, string exception);

    [LoggerMessage(EventId = 30, EventName = "BackendModelsUnread", Level = LogLevel.Debug,
        Message = "Backend {Backend}: its model list could not be read ({Reason}); the last one stands")]
    public static partial void BackendModelsUnread(ILogger logger, string backend, string reason);

    [LoggerMessage(EventId = 28, EventName = "BackendEjectedByProbe", Level = LogLevel.Warning,
        Message = "Backend {Backend} failed its health probe ({Reason}): set aside; requests waiting on it for a first byte move to another backend")]
    public static partial void BackendEjectedByProbe(ILogger logger, string backend, string reason);

    [LoggerMessage(EventId = 24, EventName = "BackendsDiscovered", Level = LogLevel.Information,
        Message = "Backends of {Url}: {Count} ({Backends})")]
    public static partial void BackendsDiscovered(ILogger logger, string url, int count, string backends);

    [LoggerMessage(EventId = 25, EventName = "BackendDiscoveryFailed", Level = LogLevel.Warning,
        Message = "Backends of {Url} could not be resolved ({Detail}); keeping the ones there are")]
    public static partial void BackendDiscoveryFailed(ILogger logger, string url, string detail);

    [LoggerMessage(EventId = 26, EventName = "SealingKeysLoaded", Level = LogLevel.Information,
        Message = "The keys that seal reasoning were read from Redis ({Count} elements); encrypted_content is sealed and opened again")]
    public static partial void SealingKeysLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 27, EventName = "SealingKeysUnavailable", Level = LogLevel.Warning,
        Message = "The keys that seal reasoning could not be read from Redis ({Exception}: {Detail}); keys read before kept in use: {Loaded} (with none, reasoning items carry no encrypted_content); trying again in the background; next warning in a minute at the earliest")]
    public static partial void SealingKeysUnavailable(ILogger logger, bool loaded, string exception, string detail);

    [LoggerMessage(EventId = 29, EventName = "MessagesThinkingUnreadable", Level = LogLevel.Warning,
        Message = "Request {RequestId}: {Count} thinking blocks sent back without a signature that opens (tampered, other keys, or expired); ignored, the reasoning memory fills in where it can")]
    public static partial void MessagesThinkingUnreadable(ILogger logger, string requestId, int count);

    [LoggerMessage(EventId = 6, EventName = "UnhandledError", Level = LogLevel.Error,
        Message = "Request {RequestId}: unhandled error")]
    public static partial void UnhandledError(ILogger logger, string requestId, Exception exception);
}
