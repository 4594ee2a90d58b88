using System.Buffers;
using System.Text;
using HarmonyProxy.Completions;
using HarmonyProxy.OpenAi;

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
        RelayAsync(Encoding.UTF8.GetBytes(body.ToString()), translator).GetAwaiter().GetResult();
    }

    private static async Task RelayAsync(byte[] body, CompletionTranslator translator)
    {
        await using var upstream = new UpstreamEventReader(new MemoryStream(body), 1 << 20);
        var end = await CompletionRelay.RunAsync(upstream, eventStream: true, translator, watchdog: null, static () => ValueTask.CompletedTask, CancellationToken.None);
        if (end == RelayEnd.UpstreamError)
        {
            translator.Fail(translator.UpstreamError!.Message, translator.UpstreamError.Type, translator.UpstreamError.Code);
        }
    }
}
