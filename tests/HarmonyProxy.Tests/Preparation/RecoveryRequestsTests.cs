using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;

namespace HarmonyProxy.Tests.Preparation;

public sealed class RecoveryRequestsTests
{
    [Fact]
    public void WithRawOutput_TurnsLlamaServersParsingOff_AndKeepsTheRest()
    {
        var body = Bytes("""{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"temperature":0.2}""");

        var raw = Parse(RecoveryRequests.WithRawOutput(body));

        Assert.Equal("none", raw["reasoning_format"]!.GetValue<string>());
        Assert.False(raw["parse_tool_calls"]!.GetValue<bool>());
        Assert.Equal(0.2, raw["temperature"]!.GetValue<double>());
        Assert.Equal("f", raw["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("hi", raw["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("thinking")]
    public void WithRepairedHistory_ToolCallWithContentAndThinking_KeepsTheThinking(string field)
    {
        var body = Bytes($$$"""
            {"messages":[{"role":"user","content":"read it"},
             {"role":"assistant","content":"I'll read the file.","{{{field}}}":"Need to read README.","tool_calls":[{"id":"c1","type":"function","function":{"name":"read","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"text"}]}
            """);

        var repaired = RecoveryRequests.WithRepairedHistory(body, out var count);

        Assert.Equal(1, count);
        var assistant = Parse(repaired!)["messages"]![1]!;
        Assert.Null(assistant["content"]);
        Assert.Equal("Need to read README.", assistant[field]!.GetValue<string>());
        Assert.Equal("c1", assistant["tool_calls"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public void WithRepairedHistory_TagsInContentAndReasoning_AreReducedToTheirText()
    {
        var body = Bytes("""
            {"messages":[{"role":"user","content":"hi"},
             {"role":"assistant","content":"<|channel|>analysis<|message|>Greet.<|end|><|start|>assistant<|channel|>final<|message|>Hello!"},
             {"role":"assistant","content":null,"reasoning_content":"<|channel|>analysis<|message|>Call it.","tool_calls":[{"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]}]}
            """);

        var repaired = Parse(RecoveryRequests.WithRepairedHistory(body, out var count)!);

        Assert.Equal(2, count);
        Assert.Equal("Hello!", repaired["messages"]![1]!["content"]!.GetValue<string>());
        Assert.Equal("Call it.", repaired["messages"]![2]!["reasoning_content"]!.GetValue<string>());
    }

    [Fact]
    public void WithRepairedHistory_NothingToRepair_IsNull()
    {
        var body = Bytes("""
            {"messages":[{"role":"user","content":"What does `<|channel|>` mean?"},
             {"role":"assistant","content":"It starts a channel header.","reasoning_content":"Explain."},
             {"role":"assistant","content":null,"reasoning_content":"Call.","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}
            """);

        Assert.Null(RecoveryRequests.WithRepairedHistory(body, out var count));
        Assert.Equal(0, count);
    }

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static JsonObject Parse(byte[] body) => JsonNode.Parse(body)!.AsObject();
}
