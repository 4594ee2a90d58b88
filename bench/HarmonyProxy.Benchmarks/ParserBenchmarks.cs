using BenchmarkDotNet.Attributes;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Benchmarks;

/// <summary>
/// Parser throughput and allocations on a ~20 KB analysis + final transcript fed in 4-character
/// deltas. MB/s = transcript bytes / mean time; allocations per delta = allocated / delta count.
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private string[] _deltas = [];
    private CountingSink _sink = new();

    [Params(4)]
    public int DeltaSize { get; set; }

    public static int TranscriptChars => Transcripts.LongRaw.Length;

    [GlobalSetup]
    public void Setup()
    {
        _deltas = Transcripts.Deltas(Transcripts.LongRaw, DeltaSize);
        _sink = new CountingSink();
    }

    [Benchmark(Description = "HarmonyStreamParser, 20 KB transcript")]
    public int ParseTranscript()
    {
        var parser = new HarmonyStreamParser(_sink);
        foreach (var delta in _deltas)
        {
            parser.Feed(delta);
        }

        parser.Complete();
        return _sink.Characters;
    }

    private sealed class CountingSink : IHarmonyEventSink
    {
        public int Characters { get; private set; }

        public void OnMessageStart(HarmonyMessageHeader header) => Characters = 0;

        public void OnText(ReadOnlySpan<char> text) => Characters += text.Length;

        public void OnMessageEnd(HarmonyMessageEnd end)
        {
        }

        public void OnStreamEnd(bool truncated)
        {
        }
    }
}
