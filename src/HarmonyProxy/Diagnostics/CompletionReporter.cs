using HarmonyProxy.Harmony;

namespace HarmonyProxy.Diagnostics;

/// <summary>
/// The one place an ending value (<see cref="CompletionResult"/>) becomes what operators see: the
/// request feature, the summary log line, every per-request Prometheus metric and the
/// OpenTelemetry attributes and histograms. Called once per request, after the response ended,
/// never in the token loop.
/// </summary>
internal sealed class CompletionReporter(ProxyMetrics metrics, ILogger<CompletionReporter> logger)
{
    public void Report(HttpContext context, CompletionResult result)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(result);
        context.Features.Get<ITrafficRecorder>()?.Finished(result);
        context.Features.Set<ICompletionResultFeature>(new CompletionResultFeature(result));
        Record(result);
        CompletionTelemetry.Record(context, result);
        if (result.AttemptLog.Count == 0)
        {
            // Refused before llama-server was asked; the request's own summary line follows.
            if (result.Outcome is CompletionOutcome.ClientError or CompletionOutcome.Rejected)
            {
                Log.RequestRejected(logger, result.RequestId, result.Status, result.FailureCode ?? result.Outcome.Name());
            }

            return;
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.CompletionFinished(logger, result.RequestId, result.Model, result.Stream == true, result.Status, result.Outcome.Name(), result.Attempts, result.Recovery,
                result.TimeToFirstToken is { } ttft ? Math.Round(ttft * 1000) : null, Math.Round(result.DurationSeconds * 1000),
                result.ContentChunks, result.ReasoningChunks, result.ToolCalls, result.FallbackUsed, result.FinishReason, result.ParseFlags.ToString());
        }
    }

    /// <summary>True when the request's summary line is the completion's own (llama-server was asked).</summary>
    public static bool WroteSummaryLine(HttpContext context) =>
        context.Features.Get<ICompletionResultFeature>() is { Result.AttemptLog.Count: > 0 };

    private void Record(CompletionResult result)
    {
        metrics.Requests.WithLabels(result.Endpoint, result.StreamLabel, result.Outcome.MetricLabel()).Inc();
        metrics.RequestDuration.WithLabels(result.Endpoint, result.StreamLabel).Observe(result.DurationSeconds);
        if (result.Client is { } client)
        {
            metrics.RequestsByClient.WithLabels(client).Inc();
        }

        if (result.AttemptLog.Count == 0)
        {
            return;
        }

        RecordAttempts(result);
        if (result.TimeToFirstToken is { } ttft)
        {
            metrics.TimeToFirstToken.WithLabels(result.StreamLabel).Observe(ttft);
        }

        metrics.ParserEvents.WithLabels("final_chunk").Inc(result.ContentChunks);
        metrics.ParserEvents.WithLabels("reasoning_chunk").Inc(result.ReasoningChunks);
        metrics.ParserEvents.WithLabels("tool_call").Inc(result.ToolCalls);
        metrics.ToolCalls.Inc(result.ToolCalls - result.DroppedToolCalls);
        metrics.ToolCallsDropped.Inc(result.DroppedToolCalls);
        CountIf(result.FallbackUsed, "fallback");
        CountIf(result.ParseFlags.HasFlag(HarmonyParseFlags.Recovered), "malformed");
        CountIf(result.ParseFlags.HasFlag(HarmonyParseFlags.StrippedForm), "stripped_form");
        CountIf(result.ParseFlags.HasFlag(HarmonyParseFlags.TagsSeen), "leaked_tags_cleaned");
        if (result.Tokens is var (prompt, completion))
        {
            metrics.Tokens.WithLabels("prompt").Inc(prompt);
            metrics.Tokens.WithLabels("completion").Inc(completion);
        }

        if (result.Watchdog != WatchdogKind.None)
        {
            metrics.WatchdogTerminations.WithLabels(result.Watchdog.Name()).Inc();
            if (result.Watchdog == WatchdogKind.ReasoningLoop)
            {
                metrics.LoopGuard.WithLabels("reasoning_repeat").Inc();
            }
        }
    }

    /// <summary>Each resend by its reason, each move, each recovery by how it went, each first-byte timeout.</summary>
    private void RecordAttempts(CompletionResult result)
    {
        foreach (var attempt in result.AttemptLog)
        {
            if (attempt.Failure == RetryReasons.FirstByteTimeout)
            {
                metrics.WatchdogTerminations.WithLabels("first_byte").Inc();
            }

            // A recovery is counted by its own metric, as the request it is.
            if (attempt.Next == RetryReasons.Resend)
            {
                metrics.UpstreamRetries.WithLabels(attempt.Failure ?? "other").Inc();
            }
            else if (attempt.Next == RetryReasons.AnotherBackend)
            {
                metrics.UpstreamRetries.WithLabels(RetryReasons.AnotherBackend).Inc();
            }

            if (attempt.Recovery is { } recovery)
            {
                metrics.Recoveries.WithLabels(recovery, attempt.Completed ? "recovered" : "failed").Inc();
            }
        }
    }

    private void CountIf(bool happened, string parserEvent)
    {
        if (happened)
        {
            metrics.ParserEvents.WithLabels(parserEvent).Inc();
        }
    }
}

/// <summary>The labels attempts carry in <see cref="AttemptRecord"/> and in <c>harmony_proxy_upstream_retries_total</c>.</summary>
internal static class RetryReasons
{
    public const string Resend = "resend";
    public const string AnotherBackend = "another_backend";
    public const string FirstByteTimeout = "first_byte_timeout";
    public const string Connection = "connection";
    public const string CircuitOpen = "circuit_open";
    public const string HealthProbeFailed = "health_probe_failed";
    public const string BrokenBeforeOutput = "stream_broken_before_output";

    /// <summary><c>status_503</c> and so on.</summary>
    public static string Status(int status) => "status_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
