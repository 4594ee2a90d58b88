using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Preparation;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Completions;

/// <summary>Tool calls the client did not offer are not native tool calls; <c>parallel_tool_calls: false</c> lets one through.</summary>
public sealed class ToolPolicyTests
{
    private const string TwoCalls =
        "<|channel|>analysis<|message|>Read both.<|end|><|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{\"path\":\"a\"}<|call|>"
        + "<|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{\"path\":\"b\"}";

    [Theory]
    [InlineData("""{}""", "read_file", false)]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"read_file"}}]}""", "read_file", true)]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"write_file"}}]}""", "read_file", false)]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"read_file"}}],"tool_choice":"none"}""", "read_file", false)]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"read_file"}}],"tool_choice":"auto"}""", "read_file", true)]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}""", "a", false)]
    [InlineData("""{"functions":[{"name":"read_file"}]}""", "read_file", true)]
    public void Offers_FollowsTheRequest(string request, string name, bool offered)
    {
        Assert.Equal(offered, RequestedTools.From(JsonNode.Parse(request)!.AsObject()).Offers(name));
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"write_file"}}]}""")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"read_file"}}],"tool_choice":"none"}""")]
    public void UnofferedCall_Native_IsDropped_FinishStop(string request)
    {
        var (stream, translator) = Run(Samples.ToolCall, request, ToolCallMode.Native);

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Equal(1, translator.DroppedToolCalls);
        Assert.Equal("Need the file.", stream.Reasoning);
    }

    [Fact]
    public void UnofferedCall_TextMode_IsText_FinishStop()
    {
        var (stream, _) = Run(Samples.ToolCall, "{}", ToolCallMode.Text);

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Contains("Tool call: read_file", stream.Content, StringComparison.Ordinal);
    }

    [Fact]
    public void ParallelToolCallsFalse_OneCallReachesTheClient_TheRestAreCounted()
    {
        var (stream, translator) = Run(TwoCalls, """{"tools":[{"type":"function","function":{"name":"read_file"}}],"parallel_tool_calls":false}""", ToolCallMode.Native);

        var call = Assert.Single(stream.ToolCalls);
        Assert.Equal("{\"path\":\"a\"}", call.Arguments);
        Assert.Equal("tool_calls", stream.FinishReason);
        Assert.Equal(1, translator.DroppedToolCalls);
    }

    [Fact]
    public void ParallelToolCallsDefault_BothCallsReachTheClient()
    {
        var (stream, translator) = Run(TwoCalls, """{"tools":[{"type":"function","function":{"name":"read_file"}}]}""", ToolCallMode.Native);

        Assert.Equal(["{\"path\":\"a\"}", "{\"path\":\"b\"}"], stream.ToolCalls.Select(call => call.Arguments));
        Assert.Equal(0, translator.DroppedToolCalls);
    }

    [Fact]
    public void ParsedFlavour_UnofferedCall_IsDroppedToo()
    {
        var (stream, translator) = TranslatorHarness.Run(
            [LlamaChunks.Role(), LlamaChunks.Reasoning("Search."), LlamaChunks.ToolCallStart("browser.search", "{\"q\":\"x\"}"), LlamaChunks.Finish("tool_calls"), LlamaChunks.Done],
            OutputOptions.Default with { Tools = Policy("""{"tools":[{"type":"function","function":{"name":"read_file"}}]}""") });

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Equal(1, translator.DroppedToolCalls);
    }

    private static (ClientStream Stream, CompletionTranslator Translator) Run(string raw, string request, ToolCallMode mode) =>
        TranslatorHarness.Run(LlamaChunks.RawStream(raw), new OutputOptions(ReasoningMode.ReasoningContent, mode) { Tools = Policy(request) });

    private static ToolPolicy Policy(string request) => RequestedTools.From(JsonNode.Parse(request)!.AsObject());
}
