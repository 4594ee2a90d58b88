using System.Buffers;

namespace HarmonyProxy.Harmony;

/// <summary>
/// Start detection and the stripped form (edge case 16): when special tokens are not printed,
/// <c>&lt;|channel|&gt;analysis&lt;|message|&gt;We…&lt;|end|&gt;&lt;|start|&gt;assistant&lt;|channel|&gt;final&lt;|message|&gt;Hi</c>
/// arrives as <c>analysisWe…assistantfinalHi</c>. Messages are split on "assistant" + channel word.
/// </summary>
internal sealed partial class HarmonyStreamParser
{
    private const string AssistantWord = "assistant";
    private const string RecipientStart = " to=";

    /// <summary>A stripped recipient ends at whitespace or where its JSON arguments begin.</summary>
    private static readonly SearchValues<char> RecipientEnd = SearchValues.Create(" \t\n{[\"");

    private static readonly SearchValues<char> RecipientEndOrTag = SearchValues.Create(" \t\n{[\"<");

    private enum StartDecision
    {
        Wait,
        Raw,
        Stripped,
    }

    private void Detect(ReadOnlySpan<char> text)
    {
        _header.Append(text);
        var buffered = _header.ToString();
        var decision = DecideStart(buffered, out var channel, out var consumed);
        if (decision == StartDecision.Wait && buffered.Length <= DetectLimit)
        {
            return;
        }

        _header.Clear();
        if (decision == StartDecision.Stripped)
        {
            _mode = Mode.Stripped;
            Flags |= HarmonyParseFlags.StrippedForm;
            EnterStrippedHeader(channel);
            ScanStripped(buffered.AsSpan(consumed));
            return;
        }

        _mode = Mode.Raw;
        ScanRaw(buffered);
    }

    /// <summary>Decides from the first characters whether the output is the stripped form.</summary>
    private static StartDecision DecideStart(ReadOnlySpan<char> text, out string? channel, out int consumed)
    {
        channel = null;
        consumed = 0;
        var trimmed = text.TrimStart();
        if (trimmed.IsEmpty)
        {
            return StartDecision.Wait;
        }

        if (trimmed[0] == '<')
        {
            return StartDecision.Raw;
        }

        var offset = text.Length - trimmed.Length;
        if (trimmed.StartsWith("to=", StringComparison.Ordinal))
        {
            // The output starts with the role header's recipient: " to=functions.x" and then
            // "<|channel|>" (raw) or a channel word (stripped).
            consumed = offset;
            return DecideRecipientStart(trimmed);
        }

        if ("to=".AsSpan().StartsWith(trimmed, StringComparison.Ordinal))
        {
            return StartDecision.Wait;
        }

        var wait = false;
        if (trimmed.StartsWith(AssistantWord, StringComparison.Ordinal))
        {
            // An echoed role before the first channel word.
            offset += AssistantWord.Length;
        }
        else if (AssistantWord.AsSpan().StartsWith(trimmed, StringComparison.Ordinal))
        {
            wait = true;
        }

        var rest = text[offset..];
        if (offset > 0 && (rest.TrimStart().IsEmpty || (rest.TrimStart().Length < 3 && "to=".AsSpan().StartsWith(rest.TrimStart(), StringComparison.Ordinal))))
        {
            // "assistant" and then perhaps " to=": the role header's recipient may follow.
            return StartDecision.Wait;
        }

        if (offset > 0 && rest.TrimStart().StartsWith("to=", StringComparison.Ordinal))
        {
            consumed = offset + (rest.Length - rest.TrimStart().Length);
            return DecideRecipientStart(rest.TrimStart());
        }

        var word = HarmonyHeaderParser.MatchChannelWord(rest);
        if (word is null)
        {
            return wait || HarmonyHeaderParser.IsChannelWordPrefix(rest) ? StartDecision.Wait : StartDecision.Raw;
        }

        if (rest.Length == word.Length)
        {
            return StartDecision.Wait;
        }

        var after = rest[word.Length..];
        bool stripped;
        if (after[0] == ' ' && word == "commentary")
        {
            if (!after.StartsWith(" to=", StringComparison.Ordinal))
            {
                return " to=".AsSpan().StartsWith(after, StringComparison.Ordinal) ? StartDecision.Wait : StartDecision.Raw;
            }

            stripped = true;
        }
        else if (after[0] == '<')
        {
            // "final<attempt_completion>…" (an XML tool answer) is a header; "final<|message|>" is raw.
            if (after.Length == 1)
            {
                return StartDecision.Wait;
            }

            stripped = after[1] != '|';
        }
        else
        {
            stripped = LooksLikeBodyStart(after[0]);
        }

        if (!stripped)
        {
            return StartDecision.Raw;
        }

        channel = word;
        consumed = offset + word.Length;
        return StartDecision.Stripped;
    }

    /// <summary>"to=NAME" then a tag is raw; NAME glued to a channel word, or a channel word after spaces, is stripped.</summary>
    private static StartDecision DecideRecipientStart(ReadOnlySpan<char> fromTo)
    {
        var name = fromTo[3..];
        var end = name.IndexOfAny(RecipientEndOrTag);
        if (end < 0)
        {
            return StartDecision.Wait;
        }

        if (HarmonyHeaderParser.ChannelWordSuffix(name[..end]) is not null)
        {
            return StartDecision.Stripped;
        }

        var after = name[end..].TrimStart(' ');
        if (after.IsEmpty || HarmonyHeaderParser.IsChannelWordPrefix(after))
        {
            return StartDecision.Wait;
        }

        return HarmonyHeaderParser.MatchChannelWord(after) is not null ? StartDecision.Stripped : StartDecision.Raw;
    }

    /// <summary>
    /// "analysisWe need…" vs an answer that merely starts with the word ("finally, …"): a glued
    /// body starts with a capital, a digit, a non-Latin letter or markup, never a lower-case letter.
    /// </summary>
    private static bool LooksLikeBodyStart(char c) =>
        (char.IsLetter(c) && !char.IsLower(c)) || char.IsDigit(c) || c is '\n' or '*' or '#' or '{' or '[' or '"' or '`' or '\'' or '(' or '-';

    private void EnterStrippedHeader(string? channel)
    {
        _strippedChannel = channel;
        _state = State.StrippedHeader;
        _header.Clear();
    }

    private void ScanStripped(ReadOnlySpan<char> text)
    {
        if (_state == State.StrippedHeader)
        {
            _header.Append(text);
            if (!TryOpenStrippedMessage(final: false, out var body))
            {
                return;
            }

            ScanStrippedContent(body);
            return;
        }

        ScanStrippedContent(text);
    }

    private void ScanStrippedContent(ReadOnlySpan<char> text)
    {
        var searchFrom = 0;
        while (true)
        {
            var rel = text[searchFrom..].IndexOf(AssistantWord, StringComparison.Ordinal);
            if (rel < 0)
            {
                var hold = SuffixThatStartsBoundary(text);
                EmitStrippedText(text[..^hold]);
                if (hold > 0)
                {
                    Hold(text[^hold..]);
                }

                return;
            }

            var at = searchFrom + rel;
            var after = text[(at + AssistantWord.Length)..];
            var channel = HarmonyHeaderParser.MatchChannelWord(after);
            if (channel is null)
            {
                if (HarmonyHeaderParser.IsChannelWordPrefix(after) || after.IsEmpty || (after.Length < RecipientStart.Length && RecipientStart.AsSpan().StartsWith(after, StringComparison.Ordinal)))
                {
                    EmitStrippedText(text[..at]);
                    Hold(text[at..]);
                    return;
                }

                if (after.StartsWith(RecipientStart, StringComparison.Ordinal))
                {
                    // The recipient in the role header: "assistant to=functions.x" + channel word.
                    EmitStrippedText(text[..at]);
                    CloseMessage(HarmonyMessageEnd.Implicit);
                    EnterStrippedHeader(null);
                    ScanStripped(after);
                    return;
                }

                searchFrom = at + 1;
                continue;
            }

            EmitStrippedText(text[..at]);
            CloseMessage(HarmonyMessageEnd.Implicit);
            EnterStrippedHeader(channel);
            ScanStripped(after[channel.Length..]);
            return;
        }
    }

    private void EmitStrippedText(ReadOnlySpan<char> text)
    {
        if (!text.IsEmpty)
        {
            EmitBody(text);
        }
    }

    /// <summary>Length of the longest suffix that is a proper prefix of "assistant".</summary>
    private static int SuffixThatStartsBoundary(ReadOnlySpan<char> text)
    {
        for (var length = Math.Min(AssistantWord.Length - 1, text.Length); length > 0; length--)
        {
            if (AssistantWord.AsSpan().StartsWith(text[^length..], StringComparison.Ordinal))
            {
                return length;
            }
        }

        return 0;
    }

    private void ReleaseStrippedHold(string held)
    {
        if (_state == State.StrippedHeader)
        {
            _header.Append(held);
        }
        else if (_state == State.StrippedContent)
        {
            EmitStrippedText(held);
        }
    }
}
