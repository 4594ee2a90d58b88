using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using HarmonyProxy.Completions;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Benchmarks;

/// <summary>
/// The per-event translation path: llama-server chunk bytes in (raw Harmony, one token each),
/// OpenAI chunk bytes out, for a 1,000-token turn (analysis then final). Allocated bytes per
/// run / 1,000 = allocation per event. The second benchmark starts one step earlier, from the
/// response body's SSE bytes, one event per read as tokens arrive, through <see cref="UpstreamEventReader"/>.
/// </summary>
[MemoryDiagnoser]
public class TranslatorBenchmarks
{
    private byte[][] _events = [];
    private byte[][] _sseEvents = [];
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
        _sseEvents = [.. events.Select(data => (byte[])[.. "data: "u8, .. data, .. "\n\n"u8])];
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

    [Benchmark(Description = "1,000 upstream events, with the service's reasoning capture and loop guard")]
    public int TranslateTurnAsServed()
    {
        _output.ResetWrittenCount();
        using var writer = new SseChunkWriter(_output);
        var translator = new CompletionTranslator(writer, OutputOptions.Default, passUsage: false)
        {
            // What CompletionRun gives every translator with the default settings.
            ReasoningCapture = new StringBuilder(),
            LoopDetector = new ReasoningLoopDetector(64, 8, 16 * 1024),
        };
        foreach (var data in _events)
        {
            if (translator.ProcessEvent(data) == UpstreamEventKind.Done)
            {
                translator.Complete();
            }
        }

        return _output.WrittenCount;
    }

    [Benchmark(Description = "1,000 SSE events, read and translated")]
    public async Task<int> ReadAndTranslateTurn()
    {
        _output.ResetWrittenCount();
        using var writer = new SseChunkWriter(_output);
        var translator = new CompletionTranslator(writer, OutputOptions.Default, passUsage: false);
        await using var events = new UpstreamEventReader(new OneEventPerRead(_sseEvents), 1 << 16);
        await CompletionRelay.RunAsync(events, eventStream: true, translator, watchdog: null, static () => ValueTask.CompletedTask, CancellationToken.None);

        return _output.WrittenCount;
    }

    private static byte[] Chunk(string delta) => Encoding.UTF8.GetBytes(
        "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":" + delta + "}],\"created\":1761672368,\"id\":\"chatcmpl-x\",\"model\":\"gpt-oss-20b\",\"system_fingerprint\":\"b6865\",\"object\":\"chat.completion.chunk\"}");

    /// <summary>A response body that delivers one event per read, as a streaming upstream does.</summary>
    private sealed class OneEventPerRead(byte[][] events) : Stream
    {
        private int _next;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_next == events.Length)
            {
                return 0;
            }

            var data = events[_next++];
            data.CopyTo(buffer);
            return data.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
