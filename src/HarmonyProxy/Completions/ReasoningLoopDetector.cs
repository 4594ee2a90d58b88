namespace HarmonyProxy.Completions;

/// <summary>
/// Notices hidden reasoning that repeats itself, a known gpt-oss failure: the same piece of
/// <see cref="PieceLength"/> characters seen <see cref="Repeats"/> times within the last
/// <see cref="Window"/> characters. A rolling hash is updated per character (no re-scan); only
/// pieces whose hash falls in one bucket of eight are counted, chosen by content, so a repeating
/// passage samples the same pieces every time it comes round. Pure and allocation-free per token
/// once warmed up.
/// </summary>
internal sealed class ReasoningLoopDetector
{
    private const ulong Base = 1_000_003;
    private const int SampleMask = 7;

    private readonly char[] _recent;
    private readonly Dictionary<ulong, int> _counts = [];
    private readonly Queue<(ulong Hash, long Position)> _sampled = new();
    private readonly ulong _highPower;
    private ulong _hash;
    private long _position;

    /// <param name="pieceLength">Characters in one piece (a repeat shorter than this is not a loop).</param>
    /// <param name="repeats">How many times a piece must come back.</param>
    /// <param name="window">How far back, in characters, repeats are counted.</param>
    public ReasoningLoopDetector(int pieceLength, int repeats, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 2);
        PieceLength = pieceLength;
        Repeats = repeats;
        Window = Math.Max(window, pieceLength * repeats);
        _recent = new char[pieceLength];
        _highPower = 1;
        for (var i = 1; i < pieceLength; i++)
        {
            _highPower *= Base;
        }
    }

    public int PieceLength { get; }

    public int Repeats { get; }

    public int Window { get; }

    /// <summary>True once a loop was seen; stays true.</summary>
    public bool Looping { get; private set; }

    /// <summary>Forgets everything (a retried attempt starts over).</summary>
    public void Reset()
    {
        _counts.Clear();
        _sampled.Clear();
        _hash = 0;
        _position = 0;
        Looping = false;
    }

    public void Feed(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (Looping)
            {
                return;
            }

            var slot = (int)(_position % PieceLength);
            if (_position >= PieceLength)
            {
                _hash -= _recent[slot] * _highPower;
            }

            _recent[slot] = c;
            _hash = (_hash * Base) + c;
            _position++;
            if (_position >= PieceLength && (_hash & SampleMask) == 0)
            {
                Count(_hash);
            }
        }
    }

    private void Count(ulong hash)
    {
        while (_sampled.TryPeek(out var oldest) && _position - oldest.Position > Window)
        {
            _sampled.Dequeue();
            if (--_counts[oldest.Hash] == 0)
            {
                _counts.Remove(oldest.Hash);
            }
        }

        _sampled.Enqueue((hash, _position));
        var count = _counts.TryGetValue(hash, out var seen) ? seen + 1 : 1;
        _counts[hash] = count;
        Looping = count >= Repeats;
    }
}
