namespace HarmonyProxy.Diagnostics;

/// <summary>Every log event of the service, as source-generated <see cref="LoggerMessageAttribute"/> methods. No prompt or answer text is ever an argument.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "CompletionFinished", Level = LogLevel.Information,
        Message = "Completion {RequestId} model={Model} stream={Stream} status={Status} outcome={Outcome} attempts={UpstreamAttempts} ttft={TimeToFirstTokenMs}ms duration={DurationMs}ms content_chunks={ContentChunks} reasoning_chunks={ReasoningChunks} tool_calls={ToolCalls} fallback={FallbackUsed} finish={FinishReason} parse={ParseFlags}")]
    public static partial void CompletionFinished(ILogger logger, string requestId, string? model, bool stream, int status, string outcome, int upstreamAttempts,
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

    [LoggerMessage(EventId = 6, EventName = "UnhandledError", Level = LogLevel.Error,
        Message = "Request {RequestId}: unhandled error")]
    public static partial void UnhandledError(ILogger logger, string requestId, Exception exception);
}
