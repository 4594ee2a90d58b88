using System.Text;
using HarmonyProxy.Harmony;
using HarmonyProxy.Tests.Completions;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Harmony;

/// <summary>Text without tags streams token by token: only what could still become a tag or a header is held back.</summary>
public sealed class StreamingLatencyTests
{
    private static readonly string LongAnswer = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 180));

    [Fact]
    public void PlainText_IsReleasedWithinAFewDozenCharacters()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        var fed = 0;
        foreach (var token in Tokens(LongAnswer))
        {
            parser.Feed(token);
            fed += token.Length;
            if (sink.Text.Length > 0)
            {
                break;
            }
        }

        Assert.InRange(fed, 1, 60);
        Assert.StartsWith(sink.Text, LongAnswer, StringComparison.Ordinal);
    }

    [Fact]
    public void PlainText_AfterTheDecision_EveryTokenIsReleasedAtOnce()
    {
        var sink = new RecordingSink();
        var parser = new HarmonyStreamParser(sink);
        var tokens = Tokens(LongAnswer).ToList();
        var fed = new StringBuilder();
        foreach (var token in tokens)
        {
            parser.Feed(token);
            fed.Append(token);
            if (fed.Length > 60)
            {
                // Nothing held back: no tag can start here, every token is out.
                Assert.Equal(fed.ToString(), sink.Text);
            }
        }

        parser.Complete();
        Assert.Equal(LongAnswer, sink.Text);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EightThousandCharacters_ArriveAsManyDeltas_NotOneLump(bool parsedFlavour)
    {
        var events = new List<string> { LlamaChunks.Role() };
        events.AddRange(Tokens(LongAnswer).Select(LlamaChunks.Content));
        events.Add(LlamaChunks.Finish("stop"));
        events.Add(LlamaChunks.Done);
        if (parsedFlavour)
        {
            // llama-server's parsed content before any reasoning looks exactly like this.
            events.Insert(1, LlamaChunks.Content(string.Empty));
        }

        var (stream, _) = TranslatorHarness.Run(events);
        var contentDeltas = stream.Chunks.Count(chunk => chunk["choices"]?[0]?["delta"]?["content"] is { } content && content.GetValue<string>().Length > 0);

        Assert.Equal(LongAnswer, stream.Content);
        Assert.True(contentDeltas > LongAnswer.Length / 10, $"{contentDeltas} content deltas");
    }

    [Fact]
    public void LeadingTextShorterThanTheWindow_BeforeARealMessage_IsStillReasoning()
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream("I can't help with that.<|end|><|start|>assistant<|channel|>final<|message|>Sorry, I can't help."));

        Assert.Equal("Sorry, I can't help.", stream.Content);
        Assert.Equal("I can't help with that.", stream.Reasoning);
    }

    [Theory]
    [InlineData("Use `<|channel|>` to start a header.")]
    [InlineData("Harmony messages end with `<|end|>`; the answer ends with `<|return|>`.")]
    [InlineData("A header looks like this:\n```\n<|start|>assistant<|channel|>final<|message|>Hi<|end|>\n```\nThat is all.")]
    [InlineData("The tag \"<|message|>\" separates header and body.")]
    public void ParsedContent_TagsQuotedInTheAnswer_PassIntact(string answer)
    {
        var events = new List<string> { LlamaChunks.Role(), LlamaChunks.Reasoning("Explain the format.") };
        events.AddRange(LlamaChunks.Tokens(answer).Select(LlamaChunks.Content));
        events.Add(LlamaChunks.Finish("stop"));
        events.Add(LlamaChunks.Done);

        var (stream, _) = TranslatorHarness.Run(events);

        Assert.Equal(answer, stream.Content);
        Assert.Equal("Explain the format.", stream.Reasoning);
    }

    [Fact]
    public void ParsedContent_TagsThatLeaked_AreStillCleaned()
    {
        var events = new List<string> { LlamaChunks.Role(), LlamaChunks.Reasoning("Think.") };
        events.AddRange(LlamaChunks.Tokens("Partial<|end|><|start|>assistant<|channel|>final<|message|>Hello!").Select(LlamaChunks.Content));
        events.Add(LlamaChunks.Finish("stop"));
        events.Add(LlamaChunks.Done);

        var (stream, _) = TranslatorHarness.Run(events);

        Assert.DoesNotContain("<|", stream.Content, StringComparison.Ordinal);
        Assert.EndsWith("Hello!", stream.Content, StringComparison.Ordinal);
    }

    /// <summary>Token-sized pieces of about five characters, as llama-server streams them.</summary>
    private static IEnumerable<string> Tokens(string text)
    {
        for (var i = 0; i < text.Length; i += 5)
        {
            yield return text.Substring(i, Math.Min(5, text.Length - i));
        }
    }
}
