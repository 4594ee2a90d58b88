using System.Buffers;
using System.Text;
using HarmonyProxy.Completions;
using HarmonyProxy.Forwarding;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Completions;

internal static class TranslatorHarness
{
    /// <summary>Runs upstream event payloads through the translator as the endpoint does and parses what a client would get.</summary>
    public static (Infrastructure.ClientStream Stream, CompletionTranslator Translator) Run(IEnumerable<string> events, OutputOptions? output = null, bool includeUsage = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new SseChunkWriter(buffer);
        var translator = new CompletionTranslator(writer, output ?? OutputOptions.Default, includeUsage);
        Relay(events, translator);
        return (Infrastructure.ClientStream.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan)), translator);
    }

    /// <summary>
    /// The proxy's relay (<see cref="CompletionRelay"/>) over the events framed as llama-server's SSE
    /// body; an upstream error ends the completion with one error, as after output.
    /// </summary>
    public static void Relay(IEnumerable<string> events, CompletionTranslator translator)
    {
        // A memory stream completes every read at once: the relay runs synchronously here.
        RelayAsync(Encoding.UTF8.GetBytes(LlamaServerSim.LlamaServerSse.Body(events)), translator, bodyEndsEarly: null).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The relay over a recorded upstream body, for translator tests that hold the translator
    /// themselves; the failure is the forwarder's own reading (<see cref="ForwardingRun.FailureOf"/>),
    /// written as the forwarder writes it once output was sent (one error event). When the body ends
    /// before upstream finished, <paramref name="bodyEndsEarly"/> says how (a watchdog's
    /// <c>length</c> finish, the "closed before finishing" error, or null: left open, as a test of
    /// a partial stream wants). The whole ending, from the first byte, is in <see cref="Infrastructure.ForwarderHarness"/>.
    /// </summary>
    public static async Task RelayAsync(byte[] body, CompletionTranslator translator, EarlyEnd? bodyEndsEarly)
    {
        await using var upstream = new UpstreamEventReader(new MemoryStream(body), 1 << 20);
        var end = await CompletionRelay.RunAsync(upstream, eventStream: true, translator, watchdog: null, static () => ValueTask.CompletedTask, CancellationToken.None);
        var failure = (end, bodyEndsEarly) switch
        {
            (RelayEnd.UpstreamError, _) or (RelayEnd.EndedEarly, EarlyEnd.StreamEnded) => ForwardingRun.FailureOf(end, translator, "text/event-stream"),
            _ => null,
        };
        if (failure is not null)
        {
            translator.Fail(failure.Message, failure.Type, failure.Code);
        }
        else if (end == RelayEnd.EndedEarly && bodyEndsEarly == EarlyEnd.Watchdog)
        {
            translator.Complete(cut: true);
        }
    }
}

/// <summary>How a recorded body that ends before upstream finished is ended.</summary>
internal enum EarlyEnd
{
    /// <summary>A watchdog ended the generation: a <c>length</c> finish.</summary>
    Watchdog,

    /// <summary>The connection closed: one error event.</summary>
    StreamEnded,
}
