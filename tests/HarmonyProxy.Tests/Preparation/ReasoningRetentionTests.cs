using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;

namespace HarmonyProxy.Tests.Preparation;

/// <summary>Harmony's rule: reasoning of tool-call turns after the last final answer is kept; the rest is dropped.</summary>
public sealed class ReasoningRetentionTests
{
    [Fact]
    public void KeepsToolCallTurnsAfterTheLastFinal_DropsTheRest()
    {
        var messages = JsonNode.Parse("""
            [{"role":"user","content":"q1"},
             {"role":"assistant","content":null,"reasoning_content":"r1","tool_calls":[{"id":"a"}]},
             {"role":"tool","tool_call_id":"a","content":"x"},
             {"role":"assistant","content":"answer 1","reasoning_content":"r2"},
             {"role":"user","content":"q2"},
             {"role":"assistant","content":null,"reasoning_content":"r3","tool_calls":[{"id":"b"}]},
             {"role":"tool","tool_call_id":"b","content":"y"},
             {"role":"assistant","content":null,"reasoning_content":"r4","tool_calls":[{"id":"c"}]},
             {"role":"tool","tool_call_id":"c","content":"z"}]
            """)!.AsArray();

        var kept = ReasoningRetention.Apply(messages);

        Assert.Equal((2, 2), kept);
        Assert.Equal([null, null, null, null, null, "r3", null, "r4", null], messages.Select(m => m!["reasoning_content"]?.GetValue<string>()));
    }

    [Fact]
    public void ToolCallTurnWithTextAndKeptReasoning_FoldsTheTextIntoTheReasoning()
    {
        // The gpt-oss template refuses content and thinking together on a tool-call message (llama.cpp #19701).
        var messages = JsonNode.Parse("""
            [{"role":"user","content":"q"},
             {"role":"assistant","content":"I'll check.","reasoning_content":"Need the file.","tool_calls":[{"id":"a"}]},
             {"role":"tool","tool_call_id":"a","content":"x"}]
            """)!.AsArray();

        ReasoningRetention.Apply(messages);

        Assert.Equal("Need the file.\n\nI'll check.", messages[1]!["reasoning_content"]!.GetValue<string>());
        Assert.Null(messages[1]!["content"]);
    }

    [Fact]
    public void ToolCallTurnWithoutReasoning_KeepsItsText()
    {
        var messages = JsonNode.Parse("""[{"role":"assistant","content":"I'll check.","tool_calls":[{"id":"a"}]}]""")!.AsArray();

        Assert.Equal((0, 0), ReasoningRetention.Apply(messages));
        Assert.Equal("I'll check.", messages[0]!["content"]!.GetValue<string>());
    }
}
