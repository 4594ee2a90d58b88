namespace HarmonyProxy.Harmony;

/// <summary>
/// Tells a Harmony transcript that leaked into a stored answer from an answer that merely talks
/// about Harmony. Leaked: a header tag (<c>&lt;|start|&gt;</c>, <c>&lt;|channel|&gt;</c>,
/// <c>&lt;|message|&gt;</c>, <c>&lt;|constrain|&gt;</c>) outside code and quotes, or the stripped
/// form (<c>analysisWe…assistantfinalHello</c>). Quoted: tags inside backticks, a fenced block or
/// quote marks, and lone terminators in prose.
/// </summary>
internal static class LeakedTranscript
{
    private const string StrippedAnalysis = "analysis";
    private const string StrippedFinal = "assistantfinal";

    public static bool IsLeaked(ReadOnlySpan<char> text) => HasUnquotedHeaderTag(text) || IsStrippedTranscript(text);

    private static bool HasUnquotedHeaderTag(ReadOnlySpan<char> text)
    {
        var code = default(CodeSpanTracker);
        var index = 0;
        while (index < text.Length)
        {
            var rel = text[index..].IndexOf("<|", StringComparison.Ordinal);
            if (rel < 0)
            {
                return false;
            }

            var at = index + rel;
            code.Observe(text[index..at]);
            if (HarmonyTags.Match(text[at..], out var tag) != TagMatch.Tag)
            {
                code.Observe(text.Slice(at, 2));
                index = at + 2;
                continue;
            }

            if (!code.TagIsQuoted && tag is HarmonyTag.Start or HarmonyTag.Channel or HarmonyTag.Message or HarmonyTag.Constrain)
            {
                return true;
            }

            code.ObserveLiteral(HarmonyTags.Text(tag));
            index = at + HarmonyTags.Text(tag).Length;
        }

        return false;
    }

    /// <summary>"analysis" glued to its body (a capital, never a lower-case letter) and a later "assistantfinal".</summary>
    private static bool IsStrippedTranscript(ReadOnlySpan<char> text)
    {
        var trimmed = text.TrimStart();
        return trimmed.Length > StrippedAnalysis.Length
            && trimmed.StartsWith(StrippedAnalysis, StringComparison.Ordinal)
            && !char.IsLower(trimmed[StrippedAnalysis.Length])
            && !char.IsWhiteSpace(trimmed[StrippedAnalysis.Length])
            && trimmed.IndexOf(StrippedFinal, StringComparison.Ordinal) > 0;
    }
}
