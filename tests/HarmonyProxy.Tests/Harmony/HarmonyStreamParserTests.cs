using HarmonyProxy.Harmony;

namespace HarmonyProxy.Tests.Harmony;

public sealed class HarmonyStreamParserTests
{
    [Theory]
    [MemberData(nameof(HarmonyFixtures.Cases), MemberType = typeof(HarmonyFixtures))]
    public void Parse_OneDelta_MatchesContract(HarmonyCase fixture)
    {
        var turn = TurnAssert.ParseInPieces(fixture.Raw, [], fixture.Truncated);

        TurnAssert.Matches(fixture, turn);
    }

    [Theory]
    [MemberData(nameof(HarmonyFixtures.Cases), MemberType = typeof(HarmonyFixtures))]
    public void Parse_OneCharacterDeltas_MatchesContract(HarmonyCase fixture)
    {
        var turn = TurnAssert.ParseInPieces(fixture.Raw, Enumerable.Range(1, fixture.Raw.Length), fixture.Truncated);

        TurnAssert.Matches(fixture, turn);
    }

    [Theory]
    [MemberData(nameof(HarmonyFixtures.Cases), MemberType = typeof(HarmonyFixtures))]
    public void Parse_SplitInsideEveryTag_MatchesContract(HarmonyCase fixture)
    {
        // Cut every tag in the middle, and right after its '<' and before its '>'.
        var cuts = new List<int>();
        for (var at = fixture.Raw.IndexOf("<|", StringComparison.Ordinal); at >= 0; at = fixture.Raw.IndexOf("<|", at + 1, StringComparison.Ordinal))
        {
            cuts.AddRange([at + 1, at + 4, at + 6]);
        }

        var turn = TurnAssert.ParseInPieces(fixture.Raw, cuts, fixture.Truncated);

        TurnAssert.Matches(fixture, turn);
    }

    [Fact]
    public void Feed_FinalText_IsReleasedInTheSameCall()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        parser.Feed("<|channel|>final<|message|>");

        parser.Feed("Hel");
        Assert.Equal("Hel", sink.Text);

        parser.Feed("lo");
        Assert.Equal("Hello", sink.Text);
    }

    [Theory]
    [InlineData("Hello <", "Hello ")]
    [InlineData("Hello <|", "Hello ")]
    [InlineData("Hello <|en", "Hello ")]
    [InlineData("Hello <|constrain", "Hello ")]
    [InlineData("Hello <|x", "Hello <|x")]
    [InlineData("a <| b", "a <| b")]
    [InlineData("x < y", "x < y")]
    public void Feed_HoldsBackOnlyAPossibleTag(string delta, string released)
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        parser.Feed("<|channel|>final<|message|>");

        parser.Feed(delta);

        Assert.Equal(released, sink.Text);
    }

    [Fact]
    public void Feed_HeldTextThatIsNotATag_IsReleasedWithTheNextDelta()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        parser.Feed("<|channel|>final<|message|>a <|");

        parser.Feed("> b");

        Assert.Equal("a <|> b", sink.Text);
    }

    [Fact]
    public void Events_ReportHeaderPartsAndHowMessagesEnded()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);

        parser.Feed("<|channel|>analysis<|message|>t<|end|><|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>");
        parser.Complete();

        Assert.Equal(
            [
                "start analysis|||Header",
                "text t",
                "end End",
                "start commentary|functions.f|json|Header",
                "text {}",
                "end Call",
                "stream-end False",
            ],
            sink.Events);
    }

    [Fact]
    public void Complete_Truncated_ReportsTruncatedEnd()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        parser.Feed("<|channel|>final<|message|>Partial");

        parser.Complete(truncated: true);

        Assert.Equal(["start final|||Header", "text Partial", "end Truncated", "stream-end True"], sink.Events);
    }

    [Fact]
    public void StrippedForm_IsDetectedAndFlagged()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);

        parser.Feed("analysis");
        parser.Feed("We need");
        parser.Feed(" to answer.assist");
        parser.Feed("antfinalHi");
        parser.Complete();

        Assert.True(parser.Flags.HasFlag(HarmonyParseFlags.StrippedForm));
        Assert.Equal("We need to answer.Hi", sink.Text);
        Assert.Contains("start final|||Stripped", sink.Events);
    }

    [Theory]
    [InlineData("finally, it works")]
    [InlineData("analysis of the problem follows")]
    [InlineData("final answer: 42")]
    [InlineData("commentary on the code")]
    public void PlainAnswerStartingWithAChannelWord_IsNotStrippedForm(string raw)
    {
        var collector = HarmonyTurnCollector.Parse(raw);

        Assert.Equal(raw, collector.Content);
        Assert.Null(collector.Reasoning);
    }

    [Fact]
    public void StartInContent_CleanTextPassesAndLeakedTagsAreParsed()
    {
        var collector = new HarmonyTurnCollector();
        var parser = new HarmonyStreamParser(collector, new HarmonyParserOptions { StartInContent = true });

        parser.Feed("Hello");
        parser.Feed(" world<|end|><|start|>assistant<|channel|>analysis<|message|>leak<|end|>");
        parser.Complete();

        Assert.Equal("Hello world", collector.Content);
        Assert.Equal("leak", collector.Reasoning);
    }

    [Fact]
    public void StartInContent_WholeRawTextAsContent_IsSplitIntoReasoningAndAnswer()
    {
        var collector = HarmonyTurnCollector.Parse(
            "<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>Answer",
            options: new HarmonyParserOptions { StartInContent = true });

        Assert.Equal("Answer", collector.Content);
        Assert.Equal("think", collector.Reasoning);
    }

    [Fact]
    public void HeaderOverflow_WithChannel_StreamsBodyWithoutMessageTag()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink, new HarmonyParserOptions { MaxHeaderChars = 32 });

        parser.Feed("<|channel|>final I can't help with that request, sorry.");

        Assert.Equal("I can't help with that request, sorry.", sink.Text);
    }

    [Fact]
    public void HeaderlessLeadingText_OverTheLimit_IsReleasedAsContent()
    {
        var collector = new HarmonyTurnCollector();
        var parser = new HarmonyStreamParser(collector, new HarmonyParserOptions { MaxHeaderChars = 16 });

        parser.Feed("This is a long plain answer with no tags.");
        parser.Complete();

        Assert.Equal("This is a long plain answer with no tags.", collector.Content);
    }

    [Fact]
    public void TrailingText_IsStreamedWithoutWaitingForTheEnd()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        parser.Feed("<|channel|>analysis<|message|>x<|end|>");

        parser.Feed("Hello, ");
        parser.Feed("world");

        Assert.Equal("xHello, world", sink.Text);
        Assert.Contains("start |||TrailingText", sink.Events);
    }

    [Fact]
    public void Feed_AfterComplete_Throws()
    {
        var parser = new HarmonyStreamParser(new RecordingSink());
        parser.Complete();

        Assert.Throws<InvalidOperationException>(() => parser.Feed("x"));
    }
}
