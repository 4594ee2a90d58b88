using System.Buffers;

namespace HarmonyProxy.Harmony;

/// <summary>
/// Start detection and the stripped form (edge case 16): when special tokens are not printed,
/// <c>&lt;|channel|&gt;analysis&lt;|message|&gt;We…&lt;|end|&gt;&lt;|start|&gt;assistant&lt;|channel|&gt;final&lt;|message|&gt;Hi</c>
/// arrives as <c>analysisWe…assistantfinalHi</c>. Messages are split on "assistant" + channel word.
/// </summary>
public sealed partial class HarmonyStreamParser
{
    private const string AssistantWord = "assistant";

    /// <summary>A stripped recipient ends at whitespace or where its JSON arguments begin.</summary>
    private static readonly SearchValues<char> RecipientEnd = SearchValues.Create(" \t\n{[\"");

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
            EnterStrippedHeader(channel!);
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

    /// <summary>
    /// "analysisWe need…" vs an answer that merely starts with the word ("finally, …"): a glued
    /// body starts with a capital, a digit, a non-Latin letter or markup, never a lower-case letter.
    /// </summary>
    private static bool LooksLikeBodyStart(char c) =>
        (char.IsLetter(c) && !char.IsLower(c)) || char.IsDigit(c) || c is '\n' or '*' or '#' or '{' or '[' or '"' or '`' or '\'' or '(' or '-';

    private void EnterStrippedHeader(string channel)
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
                if (HarmonyHeaderParser.IsChannelWordPrefix(after) || after.IsEmpty)
                {
                    EmitStrippedText(text[..at]);
                    Hold(text[at..]);
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

    /// <summary>
    /// Reads the rest of a stripped header after its channel word: <c> to=NAME</c> (recipient
    /// cut at whitespace or where JSON begins, a glued <c>json</c> removed: edge case 17), then a
    /// bare <c>json</c>/<c>code</c>. Returns false while more input is needed.
    /// </summary>
    private bool TryOpenStrippedMessage(bool final, out string body)
    {
        var text = _header.ToString();
        body = string.Empty;
        string? recipient = null;
        string? contentType = null;
        var rest = text.AsSpan();

        if (rest.StartsWith(" to=", StringComparison.Ordinal))
        {
            var name = rest[4..];
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
            if (target.EndsWith("json", StringComparison.Ordinal) && target.Length > 4)
            {
                target = target[..^4];
                contentType = "json";
            }

            recipient = target.IsEmpty ? null : target.ToString();
            rest = name[end..];
            foreach (var type in (ReadOnlySpan<string>)[" json", "json", " code", "code"])
            {
                if (rest.StartsWith(type, StringComparison.Ordinal))
                {
                    contentType = type.Trim();
                    rest = rest[type.Length..];
                    break;
                }

                if (!final && type.AsSpan().StartsWith(rest, StringComparison.Ordinal) && rest.Length < type.Length)
                {
                    return false;
                }
            }

            rest = rest.TrimStart(' ');
        }
        else if (!final && rest.Length < 4 && " to=".AsSpan().StartsWith(rest, StringComparison.Ordinal))
        {
            // Nothing after the channel word yet, or the start of " to=": a recipient may follow.
            return false;
        }

        _header.Clear();
        StartMessage(new HarmonyMessageHeader(_strippedChannel, recipient, contentType, HarmonyMessageOrigin.Stripped));
        body = rest.ToString();
        return true;
    }

    private void CompleteStrippedHeader(HarmonyMessageEnd end)
    {
        var text = _header.ToString();
        if (text.StartsWith(" to=", StringComparison.Ordinal) && text.AsSpan(4).IndexOfAny(RecipientEnd) < 0)
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
