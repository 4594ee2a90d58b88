using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Tests.Harmony;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Completions;

public sealed class CompletionTranslatorTests
{
    [Theory]
    [MemberData(nameof(HarmonyFixtures.Cases), MemberType = typeof(HarmonyFixtures))]
    public void RawFlavour_EveryEdgeCase_StreamsTheContractResult(HarmonyCase fixture)
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream(fixture.Raw, fixture.Truncated ? "length" : "stop"));

        // A call cut by length is kept, arguments as far as they came (one rule, streamed or not).
        Assert.Equal(fixture.ExpectedTools, stream.ToolCalls.Select(call => (call.Name, call.Arguments)).ToArray());

        Assert.Equal(fixture.Reasoning, stream.Reasoning);
        Assert.Equal(fixture.Finish, stream.FinishReason);
        // null (no answer) and "" (an empty answer) are different answers to a client.
        Assert.Equal(fixture.ExpectedClientContent, stream.Content);
    }

    [Fact]
    public void RawFlavour_AnalysisThenFinal_SeparatesReasoningAndContent()
    {
        var (stream, translator) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        Assert.Equal("Hello there!", stream.Content);
        Assert.Equal("We need to greet.", stream.Reasoning);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Equal("chatcmpl-vHnyyi5Z6RRKTtbLzBj23g4Hf8jOhXs5", stream.Chunks[0]["id"]!.GetValue<string>());
        Assert.Equal("openai/gpt-oss-20b", stream.Chunks[0]["model"]!.GetValue<string>());
        Assert.False(translator.FallbackUsed);
    }

    [Fact]
    public void RawFlavour_ToolCall_StreamsNativeToolCallIncrementally()
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.ToolCall));

        var call = Assert.Single(stream.ToolCalls);
        Assert.Equal("read_file", call.Name);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        Assert.Equal("{\"path\": \"a.py\", \"mode\": \"r\"}", call.Arguments);
        Assert.Equal("tool_calls", stream.FinishReason);
        Assert.Null(stream.Content);

        // The call header goes out before its arguments, then arguments arrive in fragments.
        var toolChunks = stream.Chunks.Where(chunk => chunk["choices"]![0]!["delta"]!["tool_calls"] is not null).ToList();
        Assert.True(toolChunks.Count > 2);
        Assert.Equal(string.Empty, toolChunks[0]["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
    }

    [Fact]
    public void StrippedFlavour_IsRecognisedWithoutConfiguration()
    {
        var (stream, translator) = TranslatorHarness.Run(LlamaChunks.RawStream("analysisWe need to greet.assistantfinalHello there!"));

        Assert.Equal("Hello there!", stream.Content);
        Assert.Equal("We need to greet.", stream.Reasoning);
        Assert.True(translator.ParseFlags.HasFlag(HarmonyProxy.Harmony.HarmonyParseFlags.StrippedForm));
    }

    [Fact]
    public void ParsedFlavour_PassesReasoningContentAndToolCalls()
    {
        string[] events =
        [
            LlamaChunks.Role(),
            LlamaChunks.Reasoning("We need to call"),
            LlamaChunks.Reasoning(" the weather function."),
            LlamaChunks.ToolCallStart("weather", "{\""),
            LlamaChunks.ToolCallArguments("location"),
            LlamaChunks.ToolCallArguments("\":\"Florence\"}"),
            LlamaChunks.Finish("tool_calls"),
            LlamaChunks.Usage(),
            LlamaChunks.Done,
        ];

        var (stream, _) = TranslatorHarness.Run(events, includeUsage: true);

        Assert.Equal("We need to call the weather function.", stream.Reasoning);
        var call = Assert.Single(stream.ToolCalls);
        Assert.Equal(("weather", "{\"location\":\"Florence\"}"), (call.Name, call.Arguments));
        Assert.Equal("tool_calls", stream.FinishReason);
        Assert.Equal(180, stream.Usage!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public void ParsedFlavour_LeakedTagsInContent_AreCleaned()
    {
        string[] events =
        [
            LlamaChunks.Role(),
            LlamaChunks.Reasoning("thinking"),
            LlamaChunks.Content("<|channel|>analysis<|message|>thinking<|end|><|start|>assistant<|channel|>final<|message|>Clean answer"),
            LlamaChunks.Finish("stop"),
            LlamaChunks.Done,
        ];

        var (stream, translator) = TranslatorHarness.Run(events);

        Assert.Equal("Clean answer", stream.Content);
        Assert.DoesNotContain("<|", stream.Reasoning, StringComparison.Ordinal);
        Assert.True(translator.ParseFlags.HasFlag(HarmonyProxy.Harmony.HarmonyParseFlags.TagsSeen));
    }

    [Fact]
    public void ParsedFlavour_CleanContent_PassesThroughUnchanged()
    {
        string[] events = [LlamaChunks.Role(), LlamaChunks.Reasoning("hm"), LlamaChunks.Content("Use a <|> b and <div>"), LlamaChunks.Content(" here."), LlamaChunks.Finish("stop"), LlamaChunks.Done];

        var (stream, _) = TranslatorHarness.Run(events);

        Assert.Equal("Use a <|> b and <div> here.", stream.Content);
    }

    [Fact]
    public void ReasoningOnly_WithFinalHiddenInReasoning_FallsBackToTheFinal()
    {
        // llama-server's parser can leave the whole turn in reasoning_content (llama.cpp #15789).
        string[] events = [LlamaChunks.Role(), LlamaChunks.Reasoning("We think.<|end|><|start|>assistant<|channel|>final<|message|>Recovered answer"), LlamaChunks.Finish("stop"), LlamaChunks.Done];

        var (stream, _) = TranslatorHarness.Run(events);

        Assert.Equal("Recovered answer", stream.Content);
    }

    [Fact]
    public void AnalysisOnly_GivesNoContentAndNoChainOfThoughtAsAnswer()
    {
        var (stream, translator) = TranslatorHarness.Run(LlamaChunks.RawStream("<|channel|>analysis<|message|>Only thinking here."));

        Assert.Null(stream.Content);
        Assert.Equal("Only thinking here.", stream.Reasoning);
        Assert.False(translator.FallbackUsed);
    }

    [Fact]
    public void HeaderlessPlainAnswer_IsDeliveredByTheEnd()
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream("Just an answer without tags."));

        Assert.Equal("Just an answer without tags.", stream.Content);
    }

    [Theory]
    [InlineData(ReasoningMode.None, null, "Hello there!")]
    [InlineData(ReasoningMode.ReasoningContent, "We need to greet.", "Hello there!")]
    [InlineData(ReasoningMode.ThinkTags, null, "<think>\nWe need to greet.\n</think>\n\nHello there!")]
    public void ReasoningOption_ShapesTheOutput(object mode, string? reasoning, string content)
    {
        // Theory parameters are object: the option types are internal to the proxy.
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.AnalysisThenFinal), new OutputOptions((ReasoningMode)mode, ToolCallMode.Native));

        Assert.Equal(reasoning, stream.Reasoning);
        Assert.Equal(content, stream.Content);
    }

    [Fact]
    public void ToolCallOption_Text_RendersTheCallInContent()
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.ToolCall), new OutputOptions(ReasoningMode.None, ToolCallMode.Text));

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("Tool call: read_file\n```json\n{\"path\": \"a.py\", \"mode\": \"r\"}\n```\n", stream.Content);
        Assert.Equal("stop", stream.FinishReason);
    }

    [Fact]
    public void ToolCallOption_Drop_RemovesTheCall()
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.ToolCall), new OutputOptions(ReasoningMode.None, ToolCallMode.Drop));

        Assert.Empty(stream.ToolCalls);
        Assert.Null(stream.Content);
        Assert.Equal("stop", stream.FinishReason);
    }

    [Fact]
    public void Usage_IsPassedOnlyWhenTheClientAskedForIt()
    {
        var (withUsage, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.AnalysisThenFinal), includeUsage: true);
        var (withoutUsage, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.AnalysisThenFinal), includeUsage: false);

        Assert.Equal(139, withUsage.Usage!["prompt_tokens"]!.GetValue<int>());
        Assert.Null(withoutUsage.Usage);
    }

    [Fact]
    public void UpstreamLength_IsReportedAsLength_EvenWithAToolCall()
    {
        var (stream, _) = TranslatorHarness.Run(LlamaChunks.RawStream(Samples.ToolCall[..^5], finish: "length"));

        Assert.Equal("length", stream.FinishReason);
        Assert.Single(stream.ToolCalls);
    }

    [Fact]
    public void MidStreamError_EndsWithOneErrorEventAndDone()
    {
        string[] events = [LlamaChunks.Role(), .. LlamaChunks.RawContent("<|channel|>final<|message|>Partial"), LlamaChunks.Error("Failed to parse input at pos 12")];

        var (stream, _) = TranslatorHarness.Run(events);

        Assert.Equal("Partial", stream.Content);
        Assert.Contains("Failed to parse input", stream.Error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, stream.FinishChunks);
    }

    [Fact]
    public void WholeCompletionJson_FromAnUpstreamThatIgnoredStreaming_IsTranslated()
    {
        var json = """{"choices":[{"finish_reason":"tool_calls","index":0,"message":{"role":"assistant","reasoning_content":"We need to call the weather function.","content":null,"tool_calls":[{"type":"function","function":{"name":"weather","arguments":"{\"location\":\"Florence, Italy\"}"},"id":"iSI9CucmKnbtrkxFldJPg3gSXbJ3Eom9"}]}}],"created":1761672366,"model":"openai/gpt-oss-20b","object":"chat.completion","usage":{"completion_tokens":34,"prompt_tokens":139,"total_tokens":173},"id":"chatcmpl-5ubBAQ1OuDgakYNl3FcW2ZzxP6PLPfv4"}""";

        var (stream, _) = TranslatorHarness.Run([json, LlamaChunks.Done]);

        Assert.Equal("weather", Assert.Single(stream.ToolCalls).Name);
        Assert.Equal("tool_calls", stream.FinishReason);
    }

    [Fact]
    public void TruncatedToolCall_OneRule_KeptWithItsPartialArguments_StreamedAndNot()
    {
        var events = LlamaChunks.RawStream(Samples.ToolCall[..^8], finish: "length").ToList();
        var accumulator = new CompletionAccumulator();
        var translator = new CompletionTranslator(accumulator, OutputOptions.Default, passUsage: true);
        TranslatorHarness.Relay(events, translator);

        var (stream, _) = TranslatorHarness.Run(events);

        var body = JsonNode.Parse(accumulator.ToJson())!;
        var message = body["choices"]![0]!["message"]!;
        var call = Assert.Single(message["tool_calls"]!.AsArray())!;
        Assert.Equal("read_file", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("{\"path\": \"a.py\", \"mod", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("length", body["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("Need the file.", message["reasoning_content"]!.GetValue<string>());
        Assert.Equal(JsonValueKind(null), message["content"]?.GetValueKind());
        Assert.Equal([("read_file", "{\"path\": \"a.py\", \"mod")], stream.ToolCalls.Select(c => (c.Name, c.Arguments)));
        Assert.Equal("length", stream.FinishReason);
    }

    [Fact]
    public void InvalidEvents_AreIgnored()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new SseChunkWriter(buffer);
        var translator = new CompletionTranslator(writer, OutputOptions.Default, passUsage: false);

        Assert.Equal(UpstreamEventKind.Invalid, translator.ProcessEvent("not json"u8));
        Assert.Equal(UpstreamEventKind.Invalid, translator.ProcessEvent("[1,2]"u8));
        Assert.Equal(UpstreamEventKind.Chunk, translator.ProcessEvent(Encoding.UTF8.GetBytes(LlamaChunks.Role())));

        // After the first chunk too, when the chunk's identity is no longer read first.
        Assert.Equal(UpstreamEventKind.Invalid, translator.ProcessEvent("[1,2]"u8));
        Assert.Equal(UpstreamEventKind.Invalid, translator.ProcessEvent("\"text\""u8));
        Assert.Equal(UpstreamEventKind.Invalid, translator.ProcessEvent("not json"u8));
    }

    private static System.Text.Json.JsonValueKind? JsonValueKind(object? value) => value is null ? null : System.Text.Json.JsonValueKind.Undefined;
}
