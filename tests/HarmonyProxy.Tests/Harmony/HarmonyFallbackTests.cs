using HarmonyProxy.Harmony;

namespace HarmonyProxy.Tests.Harmony;

public sealed class HarmonyFallbackTests
{
    [Theory]
    [InlineData("<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>Answer<|return|>", "Answer")]
    [InlineData("<|channel|>final<|message|>first<|end|><|start|>assistant<|channel|>final<|message|>second", "second")]
    [InlineData("<|channel|>final <|constrain|>json<|message|>{\"a\":1}", "{\"a\":1}")]
    [InlineData("<|channel|>final Hello without message tag<|end|>", "Hello without message tag")]
    [InlineData("<|channel|>analysis<|message|>I'm thinking<|end|>Hello, world!", "Hello, world!")]
    [InlineData("analysisWe need to greet.assistantfinalHello!", "Hello!")]
    [InlineData("Just a plain answer.\n", "Just a plain answer.")]
    [InlineData("Keep <|notatag|> and <read_file> text", "Keep <|notatag|> and <read_file> text")]
    public void ExtractFinalText_RecoversTheAnswer(string raw, string expected)
    {
        Assert.Equal(expected, HarmonyFallback.ExtractFinalText(raw));
    }

    [Theory]
    [InlineData("<|channel|>analysis<|message|>Secret chain of thought")]
    [InlineData("<|channel|>analysis<|message|>thinking<|end|>")]
    [InlineData("analysisWe need to think about it.")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void ExtractFinalText_NeverReturnsChainOfThought(string? raw)
    {
        Assert.Null(HarmonyFallback.ExtractFinalText(raw));
    }
}
