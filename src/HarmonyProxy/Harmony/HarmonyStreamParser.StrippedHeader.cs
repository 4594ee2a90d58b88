namespace HarmonyProxy.Harmony;

/// <summary>Reading a stripped header (edge cases 16–18 without tags): what follows the channel word, or the recipient that came first.</summary>
internal sealed partial class HarmonyStreamParser
{
    private static readonly string[] ContentTypeWords = [" json", "json", " code", "code"];

    /// <summary>
    /// Reads the rest of a stripped header after its channel word: <c> to=NAME</c> (recipient
    /// cut at whitespace or where JSON begins, a glued <c>json</c> or channel word split off:
    /// edge case 17), then a bare <c>json</c>/<c>code</c>; a stray <c>to=assistant</c> glued to a
    /// new channel word starts that header instead (edge case 18). Returns false while more
    /// input is needed.
    /// </summary>
    private bool TryOpenStrippedMessage(bool final, out string body)
    {
        var text = _header.ToString();
        body = string.Empty;
        string? recipient = null;
        string? contentType = null;
        // Decided only when the header is complete: a header read again with more input starts over.
        var channel = _strippedChannel;
        var rest = text.AsSpan();

        while (rest.StartsWith(RecipientStart, StringComparison.Ordinal) || (channel is null && rest.StartsWith("to=", StringComparison.Ordinal)))
        {
            var name = rest[(rest[0] == ' ' ? RecipientStart.Length : 3)..];
            if (name.StartsWith(AssistantWord, StringComparison.Ordinal))
            {
                var afterAssistant = name[AssistantWord.Length..];
                if (!final && (afterAssistant.IsEmpty || HarmonyHeaderParser.IsChannelWordPrefix(afterAssistant)))
                {
                    return false;
                }

                if (HarmonyHeaderParser.MatchChannelWord(afterAssistant) is { } newChannel)
                {
                    // "commentary to=assistantanalysisWe…": the stray header is dropped.
                    Flags |= HarmonyParseFlags.Recovered;
                    channel = newChannel;
                    recipient = null;
                    rest = afterAssistant[newChannel.Length..];
                    continue;
                }

                recipient = AssistantWord;
                rest = afterAssistant;
                break;
            }

            var end = name.IndexOfAny(RecipientEnd);
            if (end < 0 && !final && text.Length <= _options.MaxHeaderChars)
            {
                return false;
            }

            if (end < 0)
            {
                end = name.Length;
            }

            var target = name[..end];
            if (HarmonyHeaderParser.ChannelWordSuffix(target) is { } glued)
            {
                // " to=functions.read_filecommentary json{…}": the role header's recipient, then the channel.
                channel = glued;
                target = target[..^glued.Length];
            }
            else if (target.EndsWith("json", StringComparison.Ordinal) && target.Length > 4)
            {
                target = target[..^4];
                contentType = "json";
            }

            recipient = target.IsEmpty ? null : target.ToString();
            rest = name[end..];
            break;
        }

        if (recipient is not null && recipient != AssistantWord)
        {
            if (!TryReadContentType(ref rest, ref contentType, final))
            {
                return false;
            }

            rest = rest.TrimStart(' ');
        }
        else if (recipient is null)
        {
            if (!final && rest.Length < RecipientStart.Length && RecipientStart.AsSpan().StartsWith(rest, StringComparison.Ordinal))
            {
                // Nothing after the channel word yet, or the start of " to=": a recipient may follow.
                return false;
            }

            if (!TrySkipConstrainedJson(ref rest, ref contentType, final))
            {
                return false;
            }
        }

        _header.Clear();
        _strippedChannel = channel ?? "commentary";
        StartMessage(new HarmonyMessageHeader(_strippedChannel, recipient, contentType, HarmonyMessageOrigin.Stripped));
        body = rest.ToString();
        return true;
    }

    /// <summary>A tool call's <c>json</c>/<c>code</c> word after its recipient; false while it may still be arriving.</summary>
    private static bool TryReadContentType(ref ReadOnlySpan<char> rest, ref string? contentType, bool final)
    {
        foreach (var type in ContentTypeWords)
        {
            if (rest.StartsWith(type, StringComparison.Ordinal))
            {
                contentType = type.Trim();
                rest = rest[type.Length..];
                return true;
            }

            if (!final && type.AsSpan().StartsWith(rest, StringComparison.Ordinal) && rest.Length < type.Length)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// "final json{…}": the <c>json</c> word of a <c>&lt;|constrain|&gt;</c> is not part of the
    /// answer when JSON follows it; "final json is…" keeps its words. False while undecided.
    /// </summary>
    private static bool TrySkipConstrainedJson(ref ReadOnlySpan<char> rest, ref string? contentType, bool final)
    {
        var word = rest.TrimStart(' ');
        if (!word.StartsWith("json", StringComparison.Ordinal))
        {
            return final || !(word.Length < 4 && "json".AsSpan().StartsWith(word, StringComparison.Ordinal) && rest.Length < 5);
        }

        var after = word[4..].TrimStart(' ');
        if (after.IsEmpty)
        {
            return final;
        }

        if (after[0] is '{' or '[')
        {
            contentType = "json";
            rest = after;
        }

        return true;
    }

    private void CompleteStrippedHeader(HarmonyMessageEnd end)
    {
        var text = _header.ToString();
        var recipientFirst = text.StartsWith(RecipientStart, StringComparison.Ordinal) ? RecipientStart.Length : text.StartsWith("to=", StringComparison.Ordinal) ? 3 : -1;
        if (recipientFirst >= 0 && text.AsSpan(recipientFirst).IndexOfAny(RecipientEnd) < 0 && !text.AsSpan(recipientFirst).StartsWith(AssistantWord, StringComparison.Ordinal))
        {
            // Cut off inside the recipient: nothing usable (edge case 13).
            _header.Clear();
            return;
        }

        if (TryOpenStrippedMessage(final: true, out var body))
        {
            EmitStrippedText(body);
            CloseMessage(end);
        }
    }
}
