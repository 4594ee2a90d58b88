using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Tests.Harmony;

public sealed class HarmonyPropertyTests
{
    private static readonly string[] Pieces =
    [
        "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>",
        "assistant", "analysis", "commentary", "final", " to=functions.f", " to=assistant", " to=python", "json", " ",
        "\n", "{\"a\":\"<|end|>\"}", "<|", "|>", "<", "Hello", "We need", "é🌡", "<|notatag|>", "\"", "\\",
    ];

    /// <summary>Any fixture, cut at random places, gives the same turn as in one delta.</summary>
    [Property(MaxTest = 300)]
    public Property Fixtures_AreSplitInvariant()
    {
        var gen =
            from fixture in Gen.Elements(HarmonyFixtures.All)
            from cuts in Gen.ListOf(Gen.Choose(1, Math.Max(1, fixture.Raw.Length - 1)))
            select (fixture, cuts);

        return Prop.ForAll(gen.ToArbitrary(), sample =>
        {
            var whole = TurnAssert.ParseInPieces(sample.fixture.Raw, [], sample.fixture.Truncated);
            var pieces = TurnAssert.ParseInPieces(sample.fixture.Raw, sample.cuts, sample.fixture.Truncated);
            return TurnAssert.Describe(whole) == TurnAssert.Describe(pieces);
        });
    }

    /// <summary>Random Harmony-ish soup never throws and splits never change the result.</summary>
    [Property(MaxTest = 500)]
    public Property ArbitraryHarmonyText_NeverThrowsAndIsSplitInvariant()
    {
        var gen =
            from parts in Gen.ListOf(Gen.Elements(Pieces))
            let raw = string.Concat(parts)
            from cuts in Gen.ListOf(Gen.Choose(1, Math.Max(1, raw.Length)))
            from truncated in Gen.Elements(true, false)
            select (raw, cuts, truncated);

        return Prop.ForAll(gen.ToArbitrary(), sample =>
        {
            var whole = TurnAssert.ParseInPieces(sample.raw, [], sample.truncated);
            var pieces = TurnAssert.ParseInPieces(sample.raw, sample.cuts, sample.truncated);
            return TurnAssert.Describe(whole) == TurnAssert.Describe(pieces);
        });
    }

    /// <summary>Text with no tag (and not the stripped form) comes out whole, as the answer.</summary>
    [Property(MaxTest = 500)]
    public Property TextWithoutTags_IsNeverLost()
    {
        var chars = Gen.Elements('a', 'Z', ' ', '\n', '<', '|', '>', '{', '"', 'é', '1', '.');
        var gen =
            from list in Gen.ListOf(chars)
            let raw = new string(list.ToArray())
            from cuts in Gen.ListOf(Gen.Choose(1, Math.Max(1, raw.Length)))
            select (raw, cuts);

        return Prop.ForAll(gen.ToArbitrary(), sample =>
        {
            if (sample.raw.Length == 0 || HarmonyTags.ContainsAny(sample.raw))
            {
                return true;
            }

            var turn = TurnAssert.ParseInPieces(sample.raw, sample.cuts, truncated: false);
            return turn.Content == sample.raw && turn.Reasoning is null && turn.ToolCalls.Count == 0;
        });
    }

    [Property(MaxTest = 200)]
    public Property AnyUnicodeString_NeverThrows(string? raw)
    {
        var text = raw ?? string.Empty;
        var collector = new HarmonyTurnCollector();
        var parser = new HarmonyStreamParser(collector);
        foreach (var chunk in text.Chunk(3))
        {
            parser.Feed(chunk);
        }

        parser.Complete();
        return collector.Ended.ToProperty();
    }

    /// <summary>Whatever arrives, the parser holds at most its header limit (plus a partial tag): memory stays bounded.</summary>
    [Property(MaxTest = 200)]
    public Property HeldText_IsBoundedByTheHeaderLimit()
    {
        const int Limit = 256;
        var gen =
            from prefix in Gen.Elements("", "<|channel|>final ", "<|channel|>analysis<|message|>x<|end|>", " to=functions.f")
            from body in Gen.Elements('a', ' ', 'z', '\n', '{').ArrayOf().Select(chars => new string(chars))
            select prefix + body + new string('w', 4 * Limit);

        return Prop.ForAll(gen.ToArbitrary(), raw =>
        {
            var sink = new RecordingSink();
            var parser = new HarmonyStreamParser(sink, new HarmonyParserOptions { MaxHeaderChars = Limit });
            foreach (var chunk in raw.Chunk(7))
            {
                parser.Feed(chunk);
            }

            // Before Complete: everything beyond the limit was already released.
            var visible = raw.Replace("<|channel|>", string.Empty, StringComparison.Ordinal)
                .Replace("<|message|>", string.Empty, StringComparison.Ordinal)
                .Replace("<|end|>", string.Empty, StringComparison.Ordinal).Length;
            return (sink.Text.Length >= visible - Limit - HarmonyTags.MaxLength).Label($"released {sink.Text.Length} of {visible}");
        });
    }
}
