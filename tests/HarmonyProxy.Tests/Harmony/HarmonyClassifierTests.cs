using HarmonyProxy.Harmony;

namespace HarmonyProxy.Tests.Harmony;

public sealed class HarmonyClassifierTests
{
    [Theory]
    [InlineData("final", null, HarmonyMessageOrigin.Header, HarmonyMessageRole.Content)]
    [InlineData("commentary", null, HarmonyMessageOrigin.Header, HarmonyMessageRole.Content)]
    [InlineData(null, null, HarmonyMessageOrigin.Header, HarmonyMessageRole.Content)]
    [InlineData("analysis", null, HarmonyMessageOrigin.Header, HarmonyMessageRole.Reasoning)]
    [InlineData("scratchpad", null, HarmonyMessageOrigin.Header, HarmonyMessageRole.Reasoning)]
    [InlineData("commentary", "assistant", HarmonyMessageOrigin.Header, HarmonyMessageRole.Reasoning)]
    [InlineData("final", "assistant", HarmonyMessageOrigin.Header, HarmonyMessageRole.Content)]
    [InlineData("commentary", "functions.read_file", HarmonyMessageOrigin.Header, HarmonyMessageRole.ToolCall)]
    [InlineData("analysis", "functions.read_file", HarmonyMessageOrigin.Header, HarmonyMessageRole.ToolCall)]
    [InlineData("commentary", "read_file", HarmonyMessageOrigin.Header, HarmonyMessageRole.ToolCall)]
    [InlineData("analysis", "browser.search", HarmonyMessageOrigin.Header, HarmonyMessageRole.BuiltInCall)]
    [InlineData("analysis", "python", HarmonyMessageOrigin.Header, HarmonyMessageRole.BuiltInCall)]
    [InlineData("analysis", "container.exec", HarmonyMessageOrigin.Header, HarmonyMessageRole.BuiltInCall)]
    [InlineData(null, null, HarmonyMessageOrigin.LeadingText, HarmonyMessageRole.Reasoning)]
    [InlineData(null, null, HarmonyMessageOrigin.TrailingText, HarmonyMessageRole.Content)]
    [InlineData(null, null, HarmonyMessageOrigin.PlainText, HarmonyMessageRole.Content)]
    public void Classify_FollowsTheContractTable(string? channel, string? recipient, object origin, object expected)
    {
        // Theory parameters are object: the parser's types are internal to the proxy.
        Assert.Equal((HarmonyMessageRole)expected, HarmonyClassifier.Classify(new HarmonyMessageHeader(channel, recipient, null, (HarmonyMessageOrigin)origin)));
    }

    [Theory]
    [InlineData("functions.read_file", "read_file")]
    [InlineData("read_file", "read_file")]
    [InlineData("functions.ns.tool", "ns.tool")]
    public void ToolName_DropsFunctionsPrefix(string recipient, string expected)
    {
        Assert.Equal(expected, HarmonyClassifier.ToolName(recipient));
    }
}
