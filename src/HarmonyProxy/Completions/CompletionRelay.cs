using HarmonyProxy.Wire;

namespace HarmonyProxy.Completions;

/// <summary>How one attempt's relay ended when nothing threw.</summary>
internal enum RelayEnd
{
    /// <summary>The translator completed: [DONE], a finish without [DONE], or one whole JSON completion.</summary>
    Completed,

    /// <summary>llama-server sent an error event (<see cref="CompletionTranslator.UpstreamError"/>).</summary>
    UpstreamError,

    /// <summary>The body ended before upstream finished.</summary>
    EndedEarly,

    /// <summary>
    /// The body held no completion chunk at all (an HTML error page behind a 200, SSE whose data
    /// is not JSON): a failure of the upstream, not an empty answer.
    /// </summary>
    NotACompletion,
}

/// <summary>
/// The relay loop, the only one: every upstream event into the translator, the watchdog told what
/// happened, and <c>flush</c> (the flush to the client) whenever the next event is not in
/// memory yet, so a token that reached the proxy leaves it before the proxy waits for the next
/// one, and events that arrived together leave together (as nginx relays one read per write). A
/// break (an exception from the read, a watchdog's cancellation) propagates to the caller, which
/// knows what the attempt meant.
/// </summary>
internal static class CompletionRelay
{
    /// <param name="events">llama-server's response body as SSE events.</param>
    /// <param name="eventStream">False when upstream ignored <c>stream:true</c> and answered with one JSON completion.</param>
    /// <param name="watchdog">The generation's watchdog, or null where nothing watches (tests, benchmarks).</param>
    public static async Task<RelayEnd> RunAsync(
        UpstreamEventReader events,
        bool eventStream,
        CompletionTranslator translator,
        StreamWatchdog? watchdog,
        Func<ValueTask> flush,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(translator);
        ArgumentNullException.ThrowIfNull(flush);
        if (!eventStream)
        {
            var completion = await events.ReadToEndAsync(cancellationToken);
            if (translator.ProcessEvent(completion.Span) == UpstreamEventKind.Error)
            {
                return RelayEnd.UpstreamError;
            }

            if (!translator.ChunkRead)
            {
                return RelayEnd.NotACompletion;
            }

            translator.Complete();
            await flush();
            return RelayEnd.Completed;
        }

        var unflushed = false;
        while (true)
        {
            // Events that came in one read from upstream leave in one write to the client: the
            // flush waits for nothing but events already in memory, never for the network, so a
            // lone token leaves at once and a backlog (a busy proxy) costs one send, not one each.
            if (!events.TryReadBuffered())
            {
                if (unflushed)
                {
                    await flush();
                    unflushed = false;
                }

                if (!await events.ReadAsync(cancellationToken))
                {
                    break;
                }
            }

            // A watchdog that fired (a loop, the drain's end) ends the relay before the backlog does.
            cancellationToken.ThrowIfCancellationRequested();

            // Step 7: one upstream event: the translator reads it, the parser and classifier route
            // its text, and the sink writes the client's delta for the next flush
            var kind = translator.ProcessEvent(events.Data);
            if (watchdog is not null)
            {
                Observe(translator, watchdog);
            }

            // Step 9: the end: one finish (and usage) then [DONE]; or an error the caller ends with
            if (kind == UpstreamEventKind.Done)
            {
                if (!translator.ChunkRead)
                {
                    return RelayEnd.NotACompletion;
                }

                translator.Complete();
                await flush();
                return RelayEnd.Completed;
            }

            if (kind == UpstreamEventKind.Error)
            {
                await flush();
                return RelayEnd.UpstreamError;
            }

            unflushed = true;
        }

        // The body ended without [DONE]: fine if upstream finished (older builds), a break otherwise.
        if (!translator.ChunkRead)
        {
            return RelayEnd.NotACompletion;
        }

        if (translator.UpstreamFinishReason is null)
        {
            return RelayEnd.EndedEarly;
        }

        translator.Complete();
        await flush();
        return RelayEnd.Completed;
    }

    private static void Observe(CompletionTranslator translator, StreamWatchdog watchdog)
    {
        watchdog.OnUpstreamActivity();
        if (translator.ReasoningLooping)
        {
            // Ends like the no-visible-output watchdog: the next read is cancelled.
            watchdog.EndForReasoningLoop();
        }

        if (translator.VisibleOutputStarted)
        {
            watchdog.OnVisibleOutput();
        }
    }
}
