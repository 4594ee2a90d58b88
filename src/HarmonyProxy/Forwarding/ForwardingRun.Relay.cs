using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Forwarding;

/// <summary>Step 2c, the relay of one attempt, and how an attempt that broke is classified.</summary>
internal sealed partial class ForwardingRun
{
    /// <summary>One attempt's relay (<see cref="CompletionRelay"/>), and what its end means for the request.</summary>
    private async Task<AttemptOutcome> RelayAsync(HttpResponseMessage response)
    {
        var translator = channel.Translator;
        var cancellation = Watchdog.Token;
        RelayEnd end;
        try
        {
            await using var events = new UpstreamEventReader(await response.Content.ReadAsStreamAsync(cancellation), options.Upstream.MaxUpstreamEventBytes);
            end = await CompletionRelay.RunAsync(events, UpstreamBodies.IsEventStream(response), translator, Watchdog, () => FlushAsync(cancellation), cancellation);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
        {
            var kind = Classify(exception, afterHeaders: true, translator.OutputStarted);
            return kind != AttemptEnd.Broken ? new AttemptOutcome(kind) { OutputStarted = translator.OutputStarted }
                : new AttemptOutcome(kind, exception is UpstreamEventTooLargeException
                    ? UpstreamFailure.EventTooLarge(options.Upstream.MaxUpstreamEventBytes)
                    : new UpstreamFailure(502, "The connection to the upstream llama-server broke" + Detail(exception), OpenAiError.Upstream, "upstream_connection_lost"))
                {
                    OutputStarted = translator.OutputStarted,
                    Reason = RetryReasons.BrokenBeforeOutput,
                };
        }

        if (end == RelayEnd.Completed)
        {
            return AttemptOutcome.Completed;
        }

        _ending = new CompletionEnding(null, null, WatchdogKind.None, ClientGone: false, AfterHeaders: true, translator.OutputStarted);
        return new AttemptOutcome(AttemptEnd.Broken, FailureOf(end, translator, response.Content.Headers.ContentType?.MediaType))
        {
            OutputStarted = translator.OutputStarted,
            Reason = RetryReasons.BrokenBeforeOutput,
        };
    }

    /// <summary>What a relay that ended without completing means: the error llama-server sent, a body that was no completion, or an early end.</summary>
    public static UpstreamFailure FailureOf(RelayEnd end, CompletionTranslator translator, string? mediaType) => end switch
    {
        RelayEnd.UpstreamError => UpstreamFailure.MidStream(translator.UpstreamError!.Message, translator.UpstreamError.Type, translator.UpstreamError.Code),
        RelayEnd.NotACompletion => UpstreamFailure.NotACompletion(mediaType),
        _ => UpstreamFailure.StreamEnded(),
    };

    /// <summary>Before the relay waits for upstream: the time to the first token, then the client's flush.</summary>
    private ValueTask FlushAsync(CancellationToken cancellation)
    {
        NoteFirstToken(channel.Translator);
        return channel.FlushEventsAsync(cancellation);
    }

    /// <summary>How an attempt that threw ended; the facts are recorded for the request's outcome.</summary>
    private AttemptEnd Classify(Exception exception, bool afterHeaders, bool outputStarted)
    {
        _ending = new CompletionEnding(exception, null, Watchdog.Fired, request.ClientAborted.IsCancellationRequested, afterHeaders, outputStarted);
        if (request.ClientAborted.IsCancellationRequested)
        {
            return AttemptEnd.ClientGone;
        }

        if (exception is OperationCanceledException && Watchdog.Fired != WatchdogKind.None)
        {
            _watchdogFired = Watchdog.Fired;
            Log.WatchdogFired(forwarder.Logger, RequestId, _watchdogFired.Name());
            return AttemptEnd.Watchdog;
        }

        return AttemptEnd.Broken;
    }

    /// <summary>Connection details reveal internal addresses; they reach clients only when the operator opts in.</summary>
    private string Detail(Exception exception)
    {
        Log.UpstreamExceptionDetail(forwarder.Logger, RequestId, exception.GetType().Name, exception.Message);
        return request.ExposeErrorDetails ? $": {exception.Message}" : ".";
    }

    private UpstreamFailure SendFailure(Exception exception) => exception switch
    {
        BrokenCircuitException => new UpstreamFailure(503, $"The circuit breaker is open because {forwarder.Breaker.Reason}; requests fail fast until it is tried again.", OpenAiError.Upstream, "circuit_open", forwarder.Breaker.BreakDuration > TimeSpan.Zero ? forwarder.Breaker.BreakDuration : TimeSpan.FromSeconds(5)),
        TimeoutRejectedException => UpstreamFailure.TimedOut("no response headers within the first-byte timeout"),
        OperationCanceledException => UpstreamFailure.TimedOut("request cancelled"),
        _ => UpstreamFailure.Unreachable(Detail(exception)),
    };
}
