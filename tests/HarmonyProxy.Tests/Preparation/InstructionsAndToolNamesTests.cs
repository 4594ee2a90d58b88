using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;

namespace HarmonyProxy.Tests.Preparation;

/// <summary>
/// What the gpt-oss template would lose or confuse, made right before the request leaves: several
/// system and developer messages merged into the one it renders; client functions named like
/// gpt-oss's built-in tools renamed, everywhere the request names them.
/// </summary>
public sealed class InstructionsAndToolNamesTests
{
    [Fact]
    public void SeveralInstructionMessages_AreMerged_InOrder_OneBlankLineBetween()
    {
        var messages = Messages("""
            [{"role":"system","content":"You are opencode."},
             {"role":"user","content":"Hi"},
             {"role":"developer","content":[{"type":"text","text":"Follow AGENTS.md."}]},
             {"role":"system","content":"Reminder: be brief."}]
            """);

        Assert.Equal(2, InstructionMessages.Merge(messages));

        Assert.Equal(2, messages.Count);
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        Assert.Equal("You are opencode.\n\nFollow AGENTS.md.\n\nReminder: be brief.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("user", messages[1]!["role"]!.GetValue<string>());
    }

    [Fact]
    public void OneInstructionMessage_First_IsLeftAlone()
    {
        var messages = Messages("""[{"role":"system","content":[{"type":"text","text":"Be kind."}]},{"role":"user","content":"Hi"}]""");
        var before = messages.ToJsonString();

        Assert.Equal(0, InstructionMessages.Merge(messages));
        Assert.Equal(before, messages.ToJsonString());
    }

    [Fact]
    public void AnInstructionMessage_AfterTheFirstTurn_MovesToTheStart_WhereTheTemplateReadsIt()
    {
        var messages = Messages("""[{"role":"user","content":"Hi"},{"role":"system","content":"Answer in French."}]""");

        Assert.Equal(0, InstructionMessages.Merge(messages));

        Assert.Equal("Answer in French.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("user", messages[1]!["role"]!.GetValue<string>());
    }

    [Fact]
    public void InstructionParts_ThatAreNotText_AreKept_AsParts()
    {
        var messages = Messages("""
            [{"role":"system","content":"Look."},
             {"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]
            """);

        InstructionMessages.Merge(messages);

        var parts = Assert.IsType<JsonArray>(Assert.Single(messages)!["content"]);
        Assert.Equal(["text", "text", "image_url"], parts.Select(part => part!["type"]!.GetValue<string>()));
        Assert.Equal("Look.", parts[0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void FunctionsNamedLikeBuiltIns_AreRenamed_InTheToolsTheChoiceAndTheHistory()
    {
        var request = JsonNode.Parse("""
            {"tools":[{"type":"function","function":{"name":"python"}},{"type":"function","function":{"name":"bash"}},{"type":"function","function":{"name":"read_file"}}],
             "tool_choice":{"type":"function","function":{"name":"python"}},
             "messages":[{"role":"user","content":"Run it"},
                         {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"python","arguments":"{\"code\":\"1\"}"}}]},
                         {"role":"tool","tool_call_id":"call_1","name":"python","content":"1"}]}
            """)!.AsObject();

        var clientNames = BuiltInToolNames.Rename(request, RequestedTools.OfferedNames(request));

        Assert.Equal(new Dictionary<string, string> { ["python_tool"] = "python", ["bash_tool"] = "bash" }, clientNames);
        Assert.Equal(["python_tool", "bash_tool", "read_file"], request["tools"]!.AsArray().Select(tool => tool!["function"]!["name"]!.GetValue<string>()));
        Assert.Equal("python_tool", request["tool_choice"]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("python_tool", request["messages"]![1]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("python_tool", request["messages"]![2]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void ARenamedFunction_NeverTakesANameTheClientUses()
    {
        var request = JsonNode.Parse("""{"tools":[{"type":"function","function":{"name":"python"}},{"type":"function","function":{"name":"python_tool"}}]}""")!.AsObject();

        var clientNames = BuiltInToolNames.Rename(request, RequestedTools.OfferedNames(request));

        Assert.Equal("python", clientNames["python_tool_"]);
        Assert.Equal(["python_tool_", "python_tool"], request["tools"]!.AsArray().Select(tool => tool!["function"]!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"read_file"}}]}""")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"Bash"}},{"type":"function","function":{"name":"python3"}}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"python"}]}""")]
    public void NoFunctionNamedLikeABuiltIn_NothingChanges(string json)
    {
        var request = JsonNode.Parse(json)!.AsObject();
        var before = request.ToJsonString();

        Assert.Empty(BuiltInToolNames.Rename(request, RequestedTools.OfferedNames(request)));
        Assert.Equal(before, request.ToJsonString());
    }

    private static JsonArray Messages(string json) => JsonNode.Parse(json)!.AsArray();
}
