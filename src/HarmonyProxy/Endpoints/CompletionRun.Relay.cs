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
    /// <summary>One attempt's relay (<see cref="CompletionRelay"/>), and what its end means for the request.</summary>
    private async Task<(AttemptEnd End, UpstreamFailure? Failure)> RelayAsync(HttpResponseMessage response, ClientResponse client, StreamWatchdog watchdog)
    {
        var translator = client.Translator;
        var cancellation = watchdog.Token;
        RelayEnd end;
        try
        {
            await using var events = new UpstreamEventReader(await response.Content.ReadAsStreamAsync(cancellation), options.Upstream.MaxUpstreamEventBytes);
            end = await CompletionRelay.RunAsync(events, UpstreamBodies.IsEventStream(response), translator, watchdog, () => FlushAsync(client, cancellation), cancellation);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
        {
            var kind = Classify(exception, watchdog, afterHeaders: true, translator.OutputStarted);
            return kind != AttemptEnd.Broken ? (kind, null)
                : exception is UpstreamEventTooLargeException ? (kind, UpstreamFailure.EventTooLarge(options.Upstream.MaxUpstreamEventBytes))
                : (kind, new UpstreamFailure(502, "The connection to the upstream llama-server broke" + Detail(exception), OpenAiError.Upstream, "upstream_connection_lost"));
        }

        switch (end)
        {
            case RelayEnd.Completed:
                return (AttemptEnd.Completed, null);
            case RelayEnd.UpstreamError:
                StreamBroke(translator);
                return (AttemptEnd.Broken, MidStreamFailure(translator.UpstreamError!));
            case RelayEnd.NotACompletion:
                StreamBroke(translator);
                return (AttemptEnd.Broken, UpstreamFailure.NotACompletion(response.Content.Headers.ContentType?.MediaType));
            default:
                StreamBroke(translator);
                return (AttemptEnd.Broken, UpstreamFailure.StreamEnded());
        }
    }

    /// <summary>Before the relay waits for upstream: the time to the first token, then the client's flush.</summary>
    private ValueTask FlushAsync(ClientResponse client, CancellationToken cancellation)
    {
        if (TimeToFirstToken is null && client.Translator.OutputStarted)
        {
            TimeToFirstToken = time.GetElapsedTime(_started).TotalSeconds;
        }

        return client.FlushEventsAsync(cancellation);
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
