using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Harmony;
using HarmonyProxy.Preparation;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Preparation;

/// <summary>History clean-up touches only leaked transcripts.</summary>
public sealed class HistoryCleanupTests
{
    [Theory]
    [InlineData("Use `<|channel|>` to start a header, then `<|message|>`.")]
    [InlineData("A header:\n```\n<|start|>assistant<|channel|>final<|message|>Hi<|end|>\n```\nThat is all.")]
    [InlineData("The \"<|channel|>\" tag names the channel.")]
    [InlineData("Messages end with <|end|> and answers with <|return|>.")]
    [InlineData("finally, the analysis shows the assistant was right.")]
    [InlineData("analysis of the logs: assistantfinal is not a word.")]
    public void QuotedTagsAndProse_ReachLlamaServerUnchanged(string answer)
    {
        var messages = History(answer);

        Assert.Equal(0, HistoryRepair.CleanLeakedMarkup(messages));
        Assert.Equal(answer, messages[1]!["content"]!.GetValue<string>());
        Assert.False(LeakedTranscript.IsLeaked(answer));
    }

    [Theory]
    [InlineData("<|channel|>analysis<|message|>Greet them.<|end|><|start|>assistant<|channel|>final<|message|>Hello!", "Hello!")]
    [InlineData("<|channel|>final<|message|>Hello!", "Hello!")]
    [InlineData("analysisGreet them.assistantfinalHello!", "Hello!")]
    [InlineData("  analysis**Plan**: greet.assistantfinalHello!", "Hello!")]
    public void LeakedTranscripts_AreReducedToTheirFinalText(string answer, string expected)
    {
        var messages = History(answer);

        Assert.Equal(1, HistoryRepair.CleanLeakedMarkup(messages));
        Assert.Equal(expected, messages[1]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task QuotedTags_PassThroughTheProxy_Unchanged()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        const string Answer = "Use `<|channel|>final<|message|>` to start the answer.";
        var body = new JsonObject
        {
            ["messages"] = History(Answer),
        };

        using var response = await harness.Http.PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Answer, harness.Simulator.Requests.Single()["messages"]![1]!["content"]!.GetValue<string>());
    }

    private static JsonArray History(string answer) =>
    [
        new JsonObject { ["role"] = "user", ["content"] = "Explain Harmony." },
        new JsonObject { ["role"] = "assistant", ["content"] = answer },
        new JsonObject { ["role"] = "user", ["content"] = "Thanks." },
    ];
}
