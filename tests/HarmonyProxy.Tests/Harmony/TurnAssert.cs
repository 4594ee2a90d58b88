using HarmonyProxy.Completions;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Tests.Harmony;

internal static class TurnAssert
{
    public static CompletedTurn ParseInPieces(string raw, IEnumerable<int> cuts, bool truncated, HarmonyParserOptions? options = null)
    {
        var collector = new HarmonyTurnCollector();
        var parser = new HarmonyStreamParser(collector, options);
        var start = 0;
        foreach (var cut in cuts.Where(cut => cut > 0 && cut < raw.Length).Distinct().Order())
        {
            parser.Feed(raw.AsSpan(start, cut - start));
            start = cut;
        }

        parser.Feed(raw.AsSpan(start));
        parser.Complete(truncated);
        return CompletedTurn.From(collector, truncated);
    }

    public static void Matches(HarmonyCase expected, CompletedTurn actual)
    {
        Assert.Equal(expected.Content, actual.Content);
        Assert.Equal(expected.Reasoning, actual.Reasoning);
        Assert.Equal(expected.Finish, actual.FinishReason.Name);
        Assert.Equal(expected.ExpectedTools, actual.ToolCalls.Select(call => (call.Name, call.Arguments)).ToArray());
    }

    public static string Describe(CompletedTurn turn) =>
        $"content={turn.Content ?? "<null>"}|reasoning={turn.Reasoning ?? "<null>"}|finish={turn.FinishReason}|tools={string.Join(";", turn.ToolCalls.Select(call => call.Name + ":" + call.Arguments))}";
}
