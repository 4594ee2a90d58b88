using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Preparation;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Completions;

/// <summary>
/// gpt-oss's built-in tools (<c>python</c>, <c>browser.*</c>, <c>container.*</c>) meet the client's
/// functions: a built-in call whose tool the client offered is that function's call; one nobody
/// offered is dropped (edge case 23), unless it was all the turn said; a function renamed on the
/// way to llama-server comes back under the client's name.
/// </summary>
public sealed class BuiltInToolTests
{
    private const string PythonTool = """{"tools":[{"type":"function","function":{"name":"python","parameters":{"type":"object","properties":{"code":{"type":"string"}},"required":["code"]}}}]}""";

    private const string ReadFileTool = """{"tools":[{"type":"function","function":{"name":"read_file"}}]}""";

    private const string BuiltInPython = "<|channel|>analysis<|message|>Run it.<|end|><|start|>assistant<|channel|>analysis to=python code<|message|>print(1)<|call|>";

    [Fact]
    public void ABuiltInCall_ToAnOfferedFunctionOfThatName_IsThatFunctionsCall()
    {
        var (stream, translator) = Run(BuiltInPython, PythonTool);

        var call = Assert.Single(stream.ToolCalls);
        Assert.Equal("python", call.Name);
        Assert.Equal("""{"code":"print(1)"}""", call.Arguments);
        Assert.Equal("tool_calls", stream.FinishReason);
        Assert.Equal(0, translator.DroppedToolCalls);
        Assert.Equal("Run it.", stream.Reasoning);
    }

    [Fact]
    public void ABuiltInCall_WithAJsonBody_KeepsItsArguments()
    {
        const string Search = "<|channel|>analysis to=browser.search <|constrain|>json<|message|>{\"query\":\"llama.cpp harmony\"}<|call|>";

        var (stream, _) = Run(Search, """{"tools":[{"type":"function","function":{"name":"browser"}}]}""");

        var call = Assert.Single(stream.ToolCalls);
        Assert.Equal("browser", call.Name);
        Assert.Equal("""{"query":"llama.cpp harmony"}""", call.Arguments);
    }

    [Fact]
    public void ABuiltInCall_NobodyOffered_AllTheTurnSaid_IsShownAsText_NeverAnEmptyTurn()
    {
        var (stream, translator) = Run(BuiltInPython, ReadFileTool);

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("Tool call: python\n```\nprint(1)\n```\n", stream.Content);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Equal(1, translator.DroppedToolCalls);
    }

    [Fact]
    public void ABuiltInCall_NobodyOffered_BesideAnAnswer_IsDropped()
    {
        var (stream, _) = Run(BuiltInPython + "<|start|>assistant<|channel|>final<|message|>It prints 1.<|return|>", ReadFileTool);

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("It prints 1.", stream.Content);
    }

    [Fact]
    public void ABuiltInCall_NobodyOffered_UnderTheDropOption_StaysDropped()
    {
        var (stream, _) = Run(BuiltInPython, ReadFileTool, ToolCallMode.Drop);

        Assert.Empty(stream.ToolCalls);
        Assert.Null(stream.Content);
    }

    [Fact]
    public void ARenamedFunction_ComesBackUnderTheClientsName()
    {
        const string Renamed = "<|channel|>commentary to=functions.python_tool <|constrain|>json<|message|>{\"code\":\"1+1\"}<|call|>";

        var (stream, _) = Run(Renamed, PythonTool, renamed: true);

        var call = Assert.Single(stream.ToolCalls);
        Assert.Equal("python", call.Name);
        Assert.Equal("""{"code":"1+1"}""", call.Arguments);
    }

    [Fact]
    public void ARenamedFunction_ParsedByLlamaServer_ComesBackUnderTheClientsName()
    {
        var request = JsonNode.Parse(PythonTool)!.AsObject();
        var policy = RequestedTools.From(request) with { ClientNames = BuiltInToolNames.Rename(request, RequestedTools.OfferedNames(request)) };

        var (stream, _) = TranslatorHarness.Run(
            [LlamaChunks.Role(), LlamaChunks.ToolCallStart("python_tool", "{\"code\":\"2\"}"), LlamaChunks.Finish("tool_calls"), LlamaChunks.Done],
            OutputOptions.Default with { Tools = policy });

        Assert.Equal("python", Assert.Single(stream.ToolCalls).Name);
    }

    private static (ClientStream Stream, CompletionTranslator Translator) Run(string raw, string request, ToolCallMode mode = ToolCallMode.Native, bool renamed = false)
    {
        var body = JsonNode.Parse(request)!.AsObject();
        var policy = RequestedTools.From(body);
        if (renamed)
        {
            policy = policy with { ClientNames = BuiltInToolNames.Rename(body, RequestedTools.OfferedNames(body)) };
        }

        return TranslatorHarness.Run(LlamaChunks.RawStream(raw), new OutputOptions(ReasoningMode.ReasoningContent, mode) { Tools = policy });
    }
}
