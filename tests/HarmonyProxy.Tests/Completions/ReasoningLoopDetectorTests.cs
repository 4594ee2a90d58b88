using HarmonyProxy.Completions;

namespace HarmonyProxy.Tests.Completions;

public sealed class ReasoningLoopDetectorTests
{
    private const string Sentence = "Wait, we need to check the file again because the content may have changed since the last read. ";

    [Fact]
    public void ASentenceComingBackAgainAndAgain_IsALoop_FedTokenByToken()
    {
        var detector = new ReasoningLoopDetector(pieceLength: 64, repeats: 8, window: 16 * 1024);
        var text = "Let me plan the answer first. " + string.Concat(Enumerable.Repeat(Sentence, 12));

        var fedBeforeLoop = 0;
        foreach (var token in Chunks(text, 5))
        {
            detector.Feed(token);
            if (detector.Looping)
            {
                break;
            }

            fedBeforeLoop += token.Length;
        }

        Assert.True(detector.Looping);
        Assert.InRange(fedBeforeLoop, Sentence.Length * 6, Sentence.Length * 10);
    }

    [Fact]
    public void LongReasoningThatMovesOn_IsNotALoop()
    {
        var detector = new ReasoningLoopDetector(pieceLength: 64, repeats: 8, window: 16 * 1024);
        for (var step = 0; step < 300; step++)
        {
            detector.Feed($"Step {step}: consider case {step * 7 % 13} of the parser, then check edge {step * 3 % 11} against the contract. ");
        }

        Assert.False(detector.Looping);
    }

    [Fact]
    public void RepeatsFartherApartThanTheWindow_AreNotCounted()
    {
        var detector = new ReasoningLoopDetector(pieceLength: 64, repeats: 3, window: 1024);
        for (var i = 0; i < 5; i++)
        {
            detector.Feed(Sentence);
            detector.Feed(string.Concat(Enumerable.Range(0, 40).Select(n => $"filler {i}-{n} ")));
        }

        Assert.False(detector.Looping);
        detector.Reset();
        detector.Feed(string.Concat(Enumerable.Repeat(Sentence, 5)));
        Assert.True(detector.Looping);
    }

    private static IEnumerable<string> Chunks(string text, int size)
    {
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }
}
