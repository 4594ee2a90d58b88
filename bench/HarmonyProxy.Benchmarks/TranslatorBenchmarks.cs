using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using HarmonyProxy.Completions;

namespace HarmonyProxy.Benchmarks;

/// <summary>
/// The per-event translation path: llama-server chunk bytes in (raw Harmony, one token each),
/// OpenAI chunk bytes out, for a 1,000-token turn (analysis then final). Allocated bytes per
/// run / 1,000 = allocation per event.
/// </summary>
[MemoryDiagnoser]
public class TranslatorBenchmarks
{
    private byte[][] _events = [];
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);

    public static int EventCount => 1000;

    [GlobalSetup]
    public void Setup()
    {
        var events = new List<byte[]> { Chunk("{\"role\":\"assistant\",\"content\":null}") };
        events.Add(Chunk("{\"content\":\"<|channel|>\"}"));
        events.Add(Chunk("{\"content\":\"analysis\"}"));
        events.Add(Chunk("{\"content\":\"<|message|>\"}"));
        for (var i = 0; i < 400; i++)
        {
            events.Add(Chunk("{\"content\":\" thinking\"}"));
        }

        foreach (var tag in new[] { "<|end|>", "<|start|>", "assistant", "<|channel|>", "final", "<|message|>" })
        {
            events.Add(Chunk("{\"content\":\"" + tag + "\"}"));
        }

        while (events.Count < EventCount - 2)
        {
            events.Add(Chunk("{\"content\":\" answer\"}"));
        }

        events.Add(Encoding.UTF8.GetBytes("{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}],\"created\":1761672368,\"id\":\"chatcmpl-x\",\"model\":\"gpt-oss-20b\",\"object\":\"chat.completion.chunk\"}"));
        events.Add("[DONE]"u8.ToArray());
        _events = [.. events];
    }

    [Benchmark(Description = "1,000 upstream events → OpenAI SSE chunks")]
    public int TranslateTurn()
    {
        _output.ResetWrittenCount();
        using var writer = new SseChunkWriter(_output);
        var translator = new CompletionTranslator(writer, OutputOptions.Default, passUsage: false);
        foreach (var data in _events)
        {
            if (translator.ProcessEvent(data) == UpstreamEventKind.Done)
            {
                translator.Complete();
            }
        }

        return _output.WrittenCount;
    }

    private static byte[] Chunk(string delta) => Encoding.UTF8.GetBytes(
        "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":" + delta + "}],\"created\":1761672368,\"id\":\"chatcmpl-x\",\"model\":\"gpt-oss-20b\",\"system_fingerprint\":\"b6865\",\"object\":\"chat.completion.chunk\"}");
}
