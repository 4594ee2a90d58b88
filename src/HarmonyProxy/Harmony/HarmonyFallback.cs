namespace HarmonyProxy.Harmony;

/// <summary>
/// Recovers the answer from raw output when parsing produced no final text and no tool call
/// (the predecessor's <c>extract_final_text</c>, without its leaks): the last final block with
/// tags removed, the stripped form's last final, or text with no structure at all. Never the
/// chain of thought.
/// </summary>
internal static class HarmonyFallback
{
    private const string StrippedFinal = "assistantfinal";

    public static string? ExtractFinalText(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        if (HarmonyTags.ContainsAny(raw))
        {
            return LastFinalBlock(raw) ?? TrailingText(raw);
        }

        return StrippedFinalText(raw) ?? PlainText(raw);
    }

    private static string? LastFinalBlock(string raw)
    {
        var search = raw.Length;
        while (search > 0)
        {
            var at = raw.LastIndexOf(HarmonyTags.Channel, search - 1, StringComparison.Ordinal);
            if (at < 0)
            {
                return null;
            }

            var afterTag = raw.AsSpan(at + HarmonyTags.Channel.Length);
            if (afterTag.StartsWith("final", StringComparison.Ordinal)
                && (afterTag.Length == 5 || char.IsWhiteSpace(afterTag[5]) || afterTag[5] == '<'))
            {
                return Clean(BodyAfterHeader(afterTag[5..]));
            }

            search = at;
        }

        return null;
    }

    /// <summary>The body after a final header: after <c>&lt;|message|&gt;</c>, or after the header words when it is missing.</summary>
    private static ReadOnlySpan<char> BodyAfterHeader(ReadOnlySpan<char> afterChannel)
    {
        var rest = afterChannel;
        var message = rest.IndexOf(HarmonyTags.Message, StringComparison.Ordinal);
        var nextStructural = IndexOfBodyEnd(rest);
        if (message >= 0 && (nextStructural < 0 || message < nextStructural))
        {
            rest = rest[(message + HarmonyTags.Message.Length)..];
        }
        else
        {
            rest = SkipHeaderWords(rest);
        }

        var end = IndexOfBodyEnd(rest);
        return end < 0 ? rest : rest[..end];
    }

    private static ReadOnlySpan<char> SkipHeaderWords(ReadOnlySpan<char> text)
    {
        var rest = text.TrimStart();
        foreach (var word in (ReadOnlySpan<string>)[HarmonyTags.Constrain, "json", "code"])
        {
            if (rest.StartsWith(word, StringComparison.Ordinal))
            {
                rest = rest[word.Length..].TrimStart();
            }
        }

        return rest;
    }

    private static int IndexOfBodyEnd(ReadOnlySpan<char> text)
    {
        var best = -1;
        foreach (var tag in (ReadOnlySpan<string>)[HarmonyTags.End, HarmonyTags.Return, HarmonyTags.Call, HarmonyTags.Start, HarmonyTags.Channel])
        {
            var at = text.IndexOf(tag, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
            {
                best = at;
            }
        }

        return best;
    }

    /// <summary>Edge case 15b: visible text after the last <c>&lt;|end|&gt;</c> with no header of its own.</summary>
    private static string? TrailingText(string raw)
    {
        var at = raw.LastIndexOf(HarmonyTags.End, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var tail = raw.AsSpan(at + HarmonyTags.End.Length);
        return HarmonyTags.ContainsAny(tail) || HarmonyHeaderParser.IsHeaderLike(tail, allowPartialLast: false) ? null : Clean(tail);
    }

    private static string? StrippedFinalText(string raw)
    {
        var at = raw.LastIndexOf(StrippedFinal, StringComparison.Ordinal);
        if (at >= 0)
        {
            return Clean(raw.AsSpan(at + StrippedFinal.Length));
        }

        var trimmed = raw.AsSpan().TrimStart();
        return trimmed.StartsWith("final", StringComparison.Ordinal) && trimmed.Length > 5 && !char.IsLower(trimmed[5])
            ? Clean(trimmed[5..])
            : null;
    }

    private static string? PlainText(string raw)
    {
        var trimmed = raw.AsSpan().TrimStart();
        foreach (var word in (ReadOnlySpan<string>)["analysis", "commentary", "assistantanalysis", "assistantcommentary"])
        {
            // The stripped form without a final holds only chain of thought.
            if (trimmed.StartsWith(word, StringComparison.Ordinal) && trimmed.Length > word.Length && !char.IsWhiteSpace(trimmed[word.Length]) && !char.IsLower(trimmed[word.Length]))
            {
                return null;
            }
        }

        return Clean(trimmed);
    }

    private static string? Clean(ReadOnlySpan<char> body)
    {
        var text = body.ToString();
        foreach (var tag in (ReadOnlySpan<string>)[HarmonyTags.Message, HarmonyTags.Constrain, HarmonyTags.Start, HarmonyTags.End, HarmonyTags.Channel, HarmonyTags.Return, HarmonyTags.Call])
        {
            text = text.Replace(tag, string.Empty, StringComparison.Ordinal);
        }

        text = text.Trim();
        return text.Length == 0 ? null : text;
    }
}
