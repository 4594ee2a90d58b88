using System.Buffers;
using System.Text;
using HarmonyProxy.Completions;

namespace HarmonyProxy.Tests.Completions;

internal static class TranslatorHarness
{
    /// <summary>Runs upstream event payloads through the translator as the endpoint does and parses what a client would get.</summary>
    public static (Infrastructure.ClientStream Stream, CompletionTranslator Translator) Run(IEnumerable<string> events, OutputOptions? output = null, bool includeUsage = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new SseChunkWriter(buffer);
        var translator = new CompletionTranslator(writer, output ?? OutputOptions.Default, includeUsage);
        foreach (var data in events)
        {
            var kind = translator.ProcessEvent(Encoding.UTF8.GetBytes(data));
            if (kind == UpstreamEventKind.Done)
            {
                translator.Complete();
                break;
            }

            if (kind == UpstreamEventKind.Error)
            {
                translator.Fail(translator.UpstreamError!.Message, translator.UpstreamError.Type, translator.UpstreamError.Code);
                break;
            }
        }

        return (Infrastructure.ClientStream.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan)), translator);
    }
}
