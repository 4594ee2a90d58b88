using System.Diagnostics;
using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Upstream;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// One completion request against llama-server, from the first attempt to the single ending
/// the client sees. The failure taxonomy (YARP's started/not-started rule):
/// <list type="bullet">
/// <item>before anything reached the client: an HTTP error in OpenAI's shape;</item>
/// <item>after only the role delta or keep-alive comments: the attempt is retried;</item>
/// <item>after output: one OpenAI error event and <c>[DONE]</c>;</item>
/// <item>a watchdog: a <c>length</c> finish and <c>[DONE]</c> (504 if nothing was sent yet).</item>
/// </list>
/// </summary>
internal sealed class CompletionRun(
    HttpContext context,
    UpstreamClient upstream,
    TimeProvider time,
    HarmonyProxyOptions options,
    OutputOptions output,
    PreparedRequest prepared,
    ProxyMetrics metrics,
    UpstreamBreakerState breaker,
    ILogger logger)
{
    private const string RawReparse = "raw_reparse";
    private const string HistoryRepairKind = "history_repair";

    private readonly long _started = time.GetTimestamp();
    private readonly UpstreamRetryBudget _budget = new(options.Upstream.MaxRetries);
    private int _attempt;
    private bool _rawReparseTried;
    private bool _historyRepairTried;
    private string? _pendingRecovery;

    private enum AttemptEnd
    {
        Completed,
        Broken,
        Watchdog,
        ClientGone,
    }

    public string Outcome { get; private set; } = "ok";

    /// <summary>Requests llama-server received for this client request: every try of every layer, recoveries included.</summary>
    public int Attempts => _budget.Sent;

    /// <summary>The recovery re-requests tried (<c>raw_reparse</c>, <c>history_repair</c>, joined by <c>+</c>), or null.</summary>
    public string? Recovery { get; private set; }

    public WatchdogKind Watchdog { get; private set; }

    /// <summary>Seconds from the request to the first delta beyond the role, or null if none went out.</summary>
    public double? TimeToFirstToken { get; private set; }

    /// <summary>
    /// The translator that produced the client's response (finish, counts, parse flags, usage),
    /// or null when the request failed before any output.
    /// </summary>
    public CompletionTranslator? Result { get; private set; }

    /// <summary>About four bytes of JSON per token: rough, and only used when llama-server reports no usage.</summary>
    private int PromptTokensEstimate => prepared.UpstreamBody.Length / 4;

    /// <summary>Cancelled when the proxy's drain time is over: the generation ends as a watchdog would end it.</summary>
    public CancellationToken ShutdownSignal { get; init; }

    public async Task ExecuteAsync()
    {
        var upstreamOptions = options.Upstream;
        var limits = new WatchdogLimits(
            TimeSpan.FromSeconds(upstreamOptions.ReadTimeoutSeconds),
            TimeSpan.FromSeconds(upstreamOptions.NoVisibleOutputTimeoutSeconds),
            TimeSpan.FromSeconds(upstreamOptions.TotalTimeoutSeconds));
        using var watchdog = new StreamWatchdog(limits, time, context.RequestAborted);
        using var shutdown = ShutdownSignal.Register(static state => ((StreamWatchdog)state!).EndForShutdown(), watchdog);
        if (prepared.ClientStreams)
        {
            await StreamAsync(watchdog);
        }
        else
        {
            await RespondAsync(watchdog);
        }
    }

    private async Task StreamAsync(StreamWatchdog watchdog)
    {
        await using var sse = new SseResponse(context, time, TimeSpan.FromSeconds(options.Upstream.KeepAliveSeconds));
        using var chunks = new SseChunkWriter(sse.Pending);
        // Step 5: the client's stream (headers with the first event or keep-alive), its chunk
        // writer and the translator that drives it
        var translator = new CompletionTranslator(chunks, output, prepared.ClientWantsUsage, options.Parser.MaxHeaderChars) { EstimatedPromptTokens = PromptTokensEstimate };

        var (end, failure) = await RunAttemptsAsync(
            () => translator,
            canRetry: () => !translator.OutputStarted,
            restart: translator.Restart,
            afterEvent: () => sse.FlushAsync(watchdog.Token),
            watchdog);

        if (await EndEarlyAsync(end, translator, nothingSent: !sse.Started))
        {
            return;
        }

        if (end == AttemptEnd.Broken)
        {
            if (failure is not null && !sse.Started)
            {
                await FailBeforeOutputAsync(failure);
                return;
            }

            if (failure is not null)
            {
                // Headers already went out (keep-alive or role delta): the error is an event.
                translator.Fail(failure.Message, failure.Type, failure.Code);
            }

            Log.UpstreamStreamBroken(logger, context.TraceIdentifier, failure?.Code ?? translator.UpstreamError?.Code ?? "upstream_error");
            Outcome = "upstream_error";
        }

        Record(translator);
        try
        {
            await sse.FlushAsync(context.RequestAborted);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            Outcome = "client_cancelled";
        }
    }

    private async Task RespondAsync(StreamWatchdog watchdog)
    {
        var accumulator = new CompletionAccumulator();
        var translator = new CompletionTranslator(accumulator, output, passUsage: true, options.Parser.MaxHeaderChars) { EstimatedPromptTokens = PromptTokensEstimate };

        var (end, failure) = await RunAttemptsAsync(
            () => translator,
            canRetry: () => true,
            restart: () =>
            {
                // Nothing reached the client yet: a retry simply starts a new body.
                accumulator = new CompletionAccumulator();
                translator = new CompletionTranslator(accumulator, output, passUsage: true, options.Parser.MaxHeaderChars) { EstimatedPromptTokens = PromptTokensEstimate };
            },
            afterEvent: static () => ValueTask.CompletedTask,
            watchdog);

        if (await EndEarlyAsync(end, translator, nothingSent: !translator.OutputStarted))
        {
            return;
        }

        if (end == AttemptEnd.Broken)
        {
            await FailBeforeOutputAsync(failure ?? new UpstreamFailure(502, "The upstream llama-server failed during generation.", OpenAiError.Upstream, "upstream_error"));
            return;
        }

        Record(translator);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(accumulator.ToJson(), context.RequestAborted);
    }

    /// <summary>
    /// The endings both paths share: a gone client ends quietly; a watchdog ends with a 504
    /// when nothing was sent, else with a <c>length</c> finish. True when the response is done.
    /// </summary>
    private async Task<bool> EndEarlyAsync(AttemptEnd end, CompletionTranslator translator, bool nothingSent)
    {
        switch (end)
        {
            case AttemptEnd.ClientGone:
                Outcome = "client_cancelled";
                Log.ClientDisconnected(logger, context.TraceIdentifier);
                return true;
            case AttemptEnd.Watchdog when nothingSent && Watchdog == WatchdogKind.Shutdown:
                await FailBeforeOutputAsync(new UpstreamFailure(503, "The proxy is shutting down; retry, another replica will answer.", OpenAiError.Server, "shutting_down", TimeSpan.FromSeconds(1)));
                return true;
            case AttemptEnd.Watchdog when nothingSent:
                await FailBeforeOutputAsync(UpstreamFailure.TimedOut(WatchdogName(Watchdog)));
                return true;
            case AttemptEnd.Watchdog:
                translator.Complete(cut: true);
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Sends and relays until one attempt completes. While <paramref name="canRetry"/> says
    /// nothing was shown yet, a broken attempt is asked again: a transient break while the retry
    /// budget lasts (shared with the send pipeline's own retries, <see cref="UpstreamRetryBudget"/>:
    /// MaxRetries bounds them together); a failure of llama-server's parser or template once each,
    /// in the way that avoids it (<see cref="TryStartRecovery"/>); a deterministic error never.
    /// </summary>
    private async Task<(AttemptEnd End, UpstreamFailure? Failure)> RunAttemptsAsync(
        Func<CompletionTranslator> translator,
        Func<bool> canRetry,
        Action restart,
        Func<ValueTask> afterEvent,
        StreamWatchdog watchdog)
    {
        var body = prepared.UpstreamBody;
        while (true)
        {
            _attempt++;
            watchdog.PauseIdle();
            using var span = ProxyTelemetry.StartAttempt(_attempt, _pendingRecovery);
            HttpResponseMessage response;
            try
            {
                // Step 6: the send: UpstreamClient → retry (shared budget) → breaker → first-byte timeout
                response = await upstream.SendChatAsync(body, context.Request.Headers.Authorization, _budget, watchdog.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or HttpRequestException or BrokenCircuitException or TimeoutRejectedException)
            {
                var end = Classify(exception, watchdog);
                if (exception is TimeoutRejectedException)
                {
                    metrics.WatchdogTerminations.WithLabels("first_byte").Inc();
                }

                EndRecovery(succeeded: false);
                span?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
                return end == AttemptEnd.Broken ? (end, SendFailure(exception)) : (end, null);
            }

            using (response)
            {
                UpstreamFailure failure;
                var relayed = response.IsSuccessStatusCode;
                if (relayed)
                {
                    watchdog.OnUpstreamActivity();
                    (var end, var broken) = await RelayAsync(response, translator(), watchdog, afterEvent);
                    if (end != AttemptEnd.Broken)
                    {
                        EndRecovery(succeeded: end == AttemptEnd.Completed);
                        return (end, null);
                    }

                    failure = broken!;
                }
                else
                {
                    failure = await UpstreamFailure.FromResponseAsync(response, watchdog.Token);
                }

                EndRecovery(succeeded: false);
                span?.SetStatus(ActivityStatusCode.Error, failure.Code);
                if (!canRetry())
                {
                    return (AttemptEnd.Broken, failure);
                }

                // Step 8: a broken attempt before anything visible: recover, retry, or fail
                if (TryStartRecovery(failure, ref body))
                {
                    restart();
                    continue;
                }

                // An error status was already retried by the send's pipeline if it was transient.
                if (relayed && failure.Kind == UpstreamErrorKind.Transient && _budget.TryTake())
                {
                    metrics.UpstreamRetries.WithLabels("stream_broken_before_output").Inc();
                    Log.UpstreamAttemptRetried(logger, context.TraceIdentifier, _attempt, failure.Code);
                    restart();
                    continue;
                }

                return (AttemptEnd.Broken, failure);
            }
        }
    }

    /// <summary>
    /// A failure llama-server's own gpt-oss handling caused can be avoided by asking differently:
    /// a parse failure by asking for raw Harmony (parsed here), a template's history complaint by
    /// repairing the history. Each is tried once per request; the re-request replaces
    /// <paramref name="body"/> for any later attempt.
    /// </summary>
    private bool TryStartRecovery(UpstreamFailure failure, ref byte[] body)
    {
        string kind;
        switch (failure.Kind)
        {
            case UpstreamErrorKind.ParseFailure when !_rawReparseTried:
                _rawReparseTried = true;
                kind = RawReparse;
                body = RecoveryRequests.WithRawOutput(body);
                break;
            case UpstreamErrorKind.TemplateHistory when !_historyRepairTried:
                _historyRepairTried = true;
                if (RecoveryRequests.WithRepairedHistory(body, out _) is not { } repaired)
                {
                    return false;
                }

                kind = HistoryRepairKind;
                body = repaired;
                break;
            default:
                return false;
        }

        _pendingRecovery = kind;
        Recovery = Recovery is null ? kind : Recovery + "+" + kind;
        Log.UpstreamRecoveryStarted(logger, context.TraceIdentifier, _attempt, failure.Kind == UpstreamErrorKind.ParseFailure ? "parse failure" : "template error", failure.Code, kind);
        return true;
    }

    /// <summary>Counts a recovery once the attempt it started has ended.</summary>
    private void EndRecovery(bool succeeded)
    {
        if (_pendingRecovery is not { } kind)
        {
            return;
        }

        _pendingRecovery = null;
        var outcome = succeeded ? "recovered" : "failed";
        metrics.Recoveries.WithLabels(kind, outcome).Inc();
        Log.UpstreamRecoveryEnded(logger, context.TraceIdentifier, kind, outcome);
    }

    /// <summary>Feeds every upstream event to the translator; ends on [DONE], a finish, an error event, a break or a watchdog.</summary>
    private async Task<(AttemptEnd End, UpstreamFailure? Failure)> RelayAsync(
        HttpResponseMessage response, CompletionTranslator translator, StreamWatchdog watchdog, Func<ValueTask> afterEvent)
    {
        var cancellation = watchdog.Token;
        try
        {
            await using var events = new UpstreamEventReader(await response.Content.ReadAsStreamAsync(cancellation), options.Upstream.MaxUpstreamEventBytes);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (mediaType is not null && !mediaType.Contains("event-stream", StringComparison.OrdinalIgnoreCase))
            {
                // An upstream that ignored stream:true answered with one JSON completion.
                var completion = await events.ReadToEndAsync(cancellation);
                if (translator.ProcessEvent(completion.Span) == UpstreamEventKind.Error)
                {
                    return (AttemptEnd.Broken, MidStreamFailure(translator.UpstreamError!));
                }

                translator.Complete();
                await afterEvent();
                return (AttemptEnd.Completed, null);
            }

            while (await events.ReadAsync(cancellation))
            {
                // Step 7: one upstream event: the translator reads it, the parser and classifier route
                // its text, the chunk writer writes the client's delta, and it is flushed below
                var kind = translator.ProcessEvent(events.Data);
                watchdog.OnUpstreamActivity();
                if (translator.VisibleOutputStarted)
                {
                    watchdog.OnVisibleOutput();
                }

                if (TimeToFirstToken is null && translator.OutputStarted)
                {
                    TimeToFirstToken = time.GetElapsedTime(_started).TotalSeconds;
                }

                // Step 9: the end: one finish chunk (and usage) then [DONE]; an error event; or a watchdog's length finish
                if (kind == UpstreamEventKind.Done)
                {
                    translator.Complete();
                    await afterEvent();
                    return (AttemptEnd.Completed, null);
                }

                if (kind == UpstreamEventKind.Error)
                {
                    await afterEvent();
                    return (AttemptEnd.Broken, MidStreamFailure(translator.UpstreamError!));
                }

                await afterEvent();
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
        {
            var end = Classify(exception, watchdog);
            return end == AttemptEnd.Broken
                ? (end, new UpstreamFailure(502, "The connection to the upstream llama-server broke" + Detail(exception), OpenAiError.Upstream, "upstream_connection_lost"))
                : (end, null);
        }

        // The body ended without [DONE]: fine if upstream finished (older builds), a break otherwise.
        if (translator.UpstreamFinishReason is not null)
        {
            translator.Complete();
            await afterEvent();
            return (AttemptEnd.Completed, null);
        }

        return (AttemptEnd.Broken, new UpstreamFailure(502, "The upstream llama-server closed the stream before finishing.", OpenAiError.Upstream, "upstream_stream_ended"));
    }

    private AttemptEnd Classify(Exception exception, StreamWatchdog watchdog)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return AttemptEnd.ClientGone;
        }

        if (exception is OperationCanceledException && watchdog.Fired != WatchdogKind.None)
        {
            Watchdog = watchdog.Fired;
            Outcome = "watchdog";
            metrics.WatchdogTerminations.WithLabels(WatchdogName(Watchdog)).Inc();
            Log.WatchdogFired(logger, context.TraceIdentifier, WatchdogName(Watchdog));
            return AttemptEnd.Watchdog;
        }

        return AttemptEnd.Broken;
    }

    /// <summary>Connection details reveal internal addresses; they reach clients only when the operator opts in.</summary>
    private string Detail(Exception exception)
    {
        Log.UpstreamExceptionDetail(logger, context.TraceIdentifier, exception.GetType().Name, exception.Message);
        return options.Security.ExposeUpstreamErrorDetails ? $": {exception.Message}" : ".";
    }

    private UpstreamFailure SendFailure(Exception exception) => exception switch
    {
        BrokenCircuitException => new UpstreamFailure(503, $"The circuit breaker is open because {breaker.Reason}; requests fail fast until it is tried again.", OpenAiError.Upstream, "circuit_open", breaker.BreakDuration > TimeSpan.Zero ? breaker.BreakDuration : TimeSpan.FromSeconds(5)),
        TimeoutRejectedException => UpstreamFailure.TimedOut("no response headers within the first-byte timeout"),
        OperationCanceledException => UpstreamFailure.TimedOut("request cancelled"),
        _ => UpstreamFailure.Unreachable(Detail(exception)),
    };

    private static UpstreamFailure MidStreamFailure(UpstreamStreamError error) =>
        UpstreamFailure.MidStream(error.Message, error.Type, error.Code);

    private static string WatchdogName(WatchdogKind kind) => kind switch
    {
        WatchdogKind.Idle => "idle",
        WatchdogKind.NoVisibleOutput => "no_visible_output",
        WatchdogKind.Total => "total",
        WatchdogKind.Shutdown => "shutdown",
        _ => "none",
    };

    private async Task FailBeforeOutputAsync(UpstreamFailure failure)
    {
        if (Outcome == "ok")
        {
            Outcome = "upstream_error";
        }

        Log.UpstreamFailed(logger, context.TraceIdentifier, failure.Status, failure.Code);
        await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code, failure.Param, failure.RetryAfter);
    }

    private void Record(CompletionTranslator translator)
    {
        Result = translator;
        if (TimeToFirstToken is null && translator.OutputStarted)
        {
            TimeToFirstToken = time.GetElapsedTime(_started).TotalSeconds;
        }
    }
}
