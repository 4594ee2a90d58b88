using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Tests.Endpoints;

public sealed partial class ResponsesToolsTests
{
    [Theory]
    [InlineData("exec_command", null, "exec_command")]
    [InlineData("spawn_agent", "multi_agent_v1", "multi_agent_v1__spawn_agent")]
    [InlineData("read file", "my.tools", "my_tools__read_file")]
    public void ChatName_IsAValidFunctionName(string name, string? group, string expected) =>
        Assert.Equal(expected, ResponsesTools.ChatName(name, group));

    [Fact]
    public void LongNames_AreCutWithAHash_AndStayApart()
    {
        var group = new string('g', 40);
        var a = ResponsesTools.ChatName(new string('a', 40) + "_one", group);
        var b = ResponsesTools.ChatName(new string('a', 40) + "_two", group);

        Assert.Equal(64, a.Length);
        Assert.Matches(ValidName(), a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void NamespaceAndCustomTools_MapBothWays_HostedToolsAreLeftOut()
    {
        var tools = JsonNode.Parse("""
            [{"type":"function","name":"exec_command","parameters":{"type":"object"}},
             {"type":"namespace","name":"agents","description":"d","tools":[{"type":"function","name":"wait"},{"type":"custom","name":"note"}]},
             {"type":"custom","name":"apply_patch","format":{"type":"grammar","syntax":"lark","definition":"start: patch"}},
             {"type":"web_search"},{"type":"image_generation"}]
            """)!.AsArray();

        var map = ResponsesTools.FromRequest(tools, out var problem);

        Assert.Null(problem);
        Assert.Equal(["exec_command", "agents__wait", "agents__note", "apply_patch"], map.ChatTools.Select(t => t!["function"]!["name"]!.GetValue<string>()));
        Assert.Equal(["web_search", "image_generation"], map.Omitted);
        Assert.Equal(new ResponsesToolName("wait", "agents", false), map.Resolve("agents__wait"));
        Assert.Equal(new ResponsesToolName("note", "agents", true), map.Resolve("agents__note"));
        Assert.Equal(new ResponsesToolName("unknown", null, false), map.Resolve("unknown"));
        var patch = map.ChatTools[3]!["function"]!;
        Assert.Equal("string", patch["parameters"]!["properties"]!["input"]!["type"]!.GetValue<string>());
        Assert.Contains("start: patch", patch["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("object", map.ChatTools[1]!["function"]!["parameters"]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"input":"*** Begin Patch"}""", "*** Begin Patch")]
    [InlineData("""{"patch":"raw"}""", "raw")]
    [InlineData("*** Begin Patch (not JSON)", "*** Begin Patch (not JSON)")]
    [InlineData("""{"a":"1","b":"2"}""", """{"a":"1","b":"2"}""")]
    [InlineData("""{"input":"lone \ud800 escape"}""", "lone \uFFFD escape")]
    public void CustomInput_IsReadFromTheArguments(string arguments, string input) =>
        Assert.Equal(input, ResponseItem.CustomInputOf(arguments));

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex ValidName();
}
