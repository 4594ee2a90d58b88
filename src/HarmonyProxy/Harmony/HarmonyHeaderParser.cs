namespace HarmonyProxy.Harmony;

/// <summary>A raw header split into its parts (docs/harmony-format.md, section 2).</summary>
/// <param name="Channel">Word after the last <c>&lt;|channel|&gt;</c> (or a lone channel word when the tag was lost).</param>
/// <param name="Recipient">First <c>to=X</c> that is not <c>to=assistant</c>; <c>assistant</c> if that was the only one.</param>
/// <param name="ContentType">Word after <c>&lt;|constrain|&gt;</c>, else a bare <c>json</c>/<c>code</c>.</param>
/// <param name="LeadingText">Header-less text found before the first tag (not a header at all).</param>
/// <param name="Leftover">Ordinary words after the header words: the body when <c>&lt;|message|&gt;</c> was missing.</param>
internal readonly record struct ParsedHarmonyHeader(
    string? Channel,
    string? Recipient,
    string? ContentType,
    string? LeadingText,
    string? Leftover);

/// <summary>Pure parsing of Harmony header text; the only tags it sees are channel and constrain.</summary>
internal static class HarmonyHeaderParser
{
    private static readonly string[] ChannelWords = ["analysis", "commentary", "final"];
    private static readonly string[] HeaderWords = ["assistant", "analysis", "commentary", "final", "json", "code", "to="];

    public static ParsedHarmonyHeader Parse(ReadOnlySpan<char> header)
    {
        string? channel = null;
        string? recipient = null;
        string? contentType = null;
        string? leadingText = null;
        string? leftover = null;
        var sawAssistantRecipient = false;

        var segmentTag = HarmonyTag.None;
        var rest = header;
        while (true)
        {
            var segment = NextSegment(rest, out var nextTag, out var consumed);
            switch (segmentTag)
            {
                case HarmonyTag.None:
                    if (!IsHeaderLike(segment, allowPartialLast: false))
                    {
                        leadingText = segment.Trim().ToString();
                    }
                    else
                    {
                        // A lone channel word here counts only until a <|channel|> tag names one.
                        ReadWords(segment, ref channel, ref recipient, ref contentType, ref sawAssistantRecipient, channelWordsCount: true);
                    }

                    break;
                case HarmonyTag.Channel:
                    {
                        var word = FirstWord(segment, out var after);
                        if (!word.IsEmpty)
                        {
                            channel = word.ToString();
                        }

                        leftover = ReadWords(after, ref channel, ref recipient, ref contentType, ref sawAssistantRecipient, channelWordsCount: false);
                        break;
                    }

                case HarmonyTag.Constrain:
                    {
                        var word = FirstWord(segment.TrimStart(), out var after);
                        if (!word.IsEmpty)
                        {
                            contentType = word.ToString();
                        }

                        leftover = ReadWords(after, ref channel, ref recipient, ref contentType, ref sawAssistantRecipient, channelWordsCount: false);
                        break;
                    }
            }

            if (nextTag == HarmonyTag.None)
            {
                break;
            }

            segmentTag = nextTag;
            rest = rest[consumed..];
        }

        if (recipient is null && sawAssistantRecipient)
        {
            recipient = "assistant";
        }

        return new ParsedHarmonyHeader(channel, recipient, contentType, leadingText, leftover);
    }

    /// <summary>
    /// True when <paramref name="text"/> holds only header words (role, channel words, <c>to=X</c>,
    /// <c>json</c>, <c>code</c>) and whitespace; with <paramref name="allowPartialLast"/> the last
    /// word may still be growing into one.
    /// </summary>
    public static bool IsHeaderLike(ReadOnlySpan<char> text, bool allowPartialLast)
    {
        var rest = text;
        while (true)
        {
            rest = rest.TrimStart();
            if (rest.IsEmpty)
            {
                return true;
            }

            var word = FirstWord(rest, out var after);
            var isLast = after.IsEmpty;
            if (!IsHeaderWord(word) && !(allowPartialLast && isLast && IsHeaderWordPrefix(word)))
            {
                return false;
            }

            rest = after;
        }
    }

    /// <summary>The channel word <paramref name="text"/> ends with (and is longer than), or null: a stripped recipient glued to the next header word.</summary>
    public static string? ChannelWordSuffix(ReadOnlySpan<char> text)
    {
        foreach (var word in ChannelWords)
        {
            if (text.Length > word.Length && text.EndsWith(word, StringComparison.Ordinal))
            {
                return word;
            }
        }

        return null;
    }

    /// <summary>The channel word <paramref name="text"/> starts with, or null.</summary>
    public static string? MatchChannelWord(ReadOnlySpan<char> text)
    {
        foreach (var word in ChannelWords)
        {
            if (text.StartsWith(word, StringComparison.Ordinal))
            {
                return word;
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="text"/> is a proper prefix of a channel word (so more input may complete one).</summary>
    public static bool IsChannelWordPrefix(ReadOnlySpan<char> text)
    {
        foreach (var word in ChannelWords)
        {
            if (text.Length < word.Length && word.AsSpan().StartsWith(text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHeaderWord(ReadOnlySpan<char> word)
    {
        if (word.StartsWith("to=", StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var candidate in HeaderWords)
        {
            if (word.SequenceEqual(candidate))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHeaderWordPrefix(ReadOnlySpan<char> word)
    {
        foreach (var candidate in HeaderWords)
        {
            if (candidate.AsSpan().StartsWith(word, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string? ReadWords(
        ReadOnlySpan<char> text,
        ref string? channel,
        ref string? recipient,
        ref string? contentType,
        ref bool sawAssistantRecipient,
        bool channelWordsCount)
    {
        var rest = text;
        while (true)
        {
            var trimmed = rest.TrimStart();
            if (trimmed.IsEmpty)
            {
                return null;
            }

            var word = FirstWord(trimmed, out var after);
            if (word.StartsWith("to=", StringComparison.Ordinal))
            {
                var target = word[3..];
                var angle = target.IndexOf('<');
                if (angle >= 0)
                {
                    // Edge case 19: a name ends where tag-like text begins.
                    target = target[..angle];
                }

                if (target.SequenceEqual("assistant"))
                {
                    sawAssistantRecipient = true;
                }
                else if (recipient is null && !target.IsEmpty)
                {
                    recipient = target.ToString();
                }
            }
            else if (word.SequenceEqual("json") || word.SequenceEqual("code"))
            {
                contentType ??= word.ToString();
            }
            else if (word.SequenceEqual("assistant"))
            {
                // The role word carries no information: model output is always the assistant's.
            }
            else if (channelWordsCount && MatchChannelWord(word) is { } lone && lone.Length == word.Length)
            {
                channel ??= lone;
            }
            else
            {
                return trimmed.ToString();
            }

            rest = after;
        }
    }

    private static ReadOnlySpan<char> FirstWord(ReadOnlySpan<char> text, out ReadOnlySpan<char> after)
    {
        var end = 0;
        while (end < text.Length && !char.IsWhiteSpace(text[end]))
        {
            end++;
        }

        after = text[end..];
        return text[..end];
    }

    private static ReadOnlySpan<char> NextSegment(ReadOnlySpan<char> text, out HarmonyTag nextTag, out int consumed)
    {
        var searchFrom = 0;
        while (true)
        {
            var rel = text[searchFrom..].IndexOf("<|", StringComparison.Ordinal);
            if (rel < 0)
            {
                nextTag = HarmonyTag.None;
                consumed = text.Length;
                return text;
            }

            var at = searchFrom + rel;
            if (HarmonyTags.Match(text[at..], out var tag) == TagMatch.Tag && tag is HarmonyTag.Channel or HarmonyTag.Constrain)
            {
                nextTag = tag;
                consumed = at + HarmonyTags.Text(tag).Length;
                return text[..at];
            }

            searchFrom = at + 2;
        }
    }
}
