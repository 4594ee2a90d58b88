using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Upstream;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Endpoints;

/// <summary>The relay of one attempt and the classification of how it broke.</summary>
internal sealed partial class CompletionRun
{
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
                    StreamBroke(translator);
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
                if (translator.ReasoningLooping)
                {
                    // Ends like the no-visible-output watchdog: the read below is cancelled.
                    watchdog.EndForReasoningLoop();
                }

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
                    StreamBroke(translator);
                    return (AttemptEnd.Broken, MidStreamFailure(translator.UpstreamError!));
                }

                await afterEvent();
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
        {
            var end = Classify(exception, watchdog, afterHeaders: true, translator.OutputStarted);
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

        StreamBroke(translator);
        return (AttemptEnd.Broken, new UpstreamFailure(502, "The upstream llama-server closed the stream before finishing.", OpenAiError.Upstream, "upstream_stream_ended"));
    }

    /// <summary>llama-server's stream broke without an exception (an error event, an early end).</summary>
    private void StreamBroke(CompletionTranslator translator) =>
        _ending = new CompletionEnding(null, null, WatchdogKind.None, ClientGone: false, AfterHeaders: true, translator.OutputStarted);

    /// <summary>How an attempt that threw ended; the facts are recorded for the request's outcome.</summary>
    private AttemptEnd Classify(Exception exception, StreamWatchdog watchdog, bool afterHeaders, bool outputStarted)
    {
        _ending = new CompletionEnding(exception, null, watchdog.Fired, context.RequestAborted.IsCancellationRequested, afterHeaders, outputStarted);
        if (context.RequestAborted.IsCancellationRequested)
        {
            return AttemptEnd.ClientGone;
        }

        if (exception is OperationCanceledException && watchdog.Fired != WatchdogKind.None)
        {
            Watchdog = watchdog.Fired;
            metrics.WatchdogTerminations.WithLabels(WatchdogName(Watchdog)).Inc();
            if (Watchdog == WatchdogKind.ReasoningLoop)
            {
                metrics.LoopGuard.WithLabels("reasoning_repeat").Inc();
            }

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
        WatchdogKind.ReasoningLoop => "reasoning_loop",
        _ => "none",
    };
}
