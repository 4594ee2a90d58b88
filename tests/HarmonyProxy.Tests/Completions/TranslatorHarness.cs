using System.Buffers;
using System.Text;
using HarmonyProxy.Completions;
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
        var body = new StringBuilder();
        foreach (var data in events)
        {
            foreach (var line in data.Split('\n'))
            {
                body.Append("data: ").Append(line).Append('\n');
            }

            body.Append('\n');
        }

        // A memory stream completes every read at once: the relay runs synchronously here.
        RelayAsync(Encoding.UTF8.GetBytes(body.ToString()), translator, bodyEndsEarly: null).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The relay over a recorded upstream body, ended as <c>CompletionRun</c> ends it: one error
    /// event after an upstream error; when the body ends before upstream finished,
    /// <paramref name="bodyEndsEarly"/> says how (a watchdog's <c>length</c> finish, the
    /// "closed before finishing" error, or null: left open, as a test of a partial stream wants).
    /// </summary>
    public static async Task RelayAsync(byte[] body, CompletionTranslator translator, EarlyEnd? bodyEndsEarly)
    {
        await using var upstream = new UpstreamEventReader(new MemoryStream(body), 1 << 20);
        var end = await CompletionRelay.RunAsync(upstream, eventStream: true, translator, watchdog: null, static () => ValueTask.CompletedTask, CancellationToken.None);
        var failure = (end, bodyEndsEarly) switch
        {
            (RelayEnd.UpstreamError, _) => UpstreamFailure.MidStream(translator.UpstreamError!.Message, translator.UpstreamError.Type, translator.UpstreamError.Code),
            (RelayEnd.EndedEarly, EarlyEnd.StreamEnded) => UpstreamFailure.StreamEnded(),
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
