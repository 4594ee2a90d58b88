namespace HarmonyProxy.Harmony;

/// <summary>Headers: collected until <c>&lt;|message|&gt;</c>, released when they overflow or turn out to be text, and header-less text (edge cases 11, 13, 15).</summary>
internal sealed partial class HarmonyStreamParser
{
    private void AppendHeaderText(ReadOnlySpan<char> text)
    {
        _header.Append(text);
        if (_anyMessage && !HeaderHasTag() && !HarmonyHeaderParser.IsHeaderLike(HeaderText(), allowPartialLast: true))
        {
            // Edge case 15b: visible text after a closed message, e.g. llama-server's
            // --reasoning-format none output. Stream it now rather than wait for a header.
            Flags |= HarmonyParseFlags.Recovered;
            var visible = HeaderText().TrimStart().ToString();
            ClearHeader();
            StartMessage(HarmonyMessageHeader.TrailingText);
            EmitBody(visible);
            return;
        }

        if (!_anyMessage && !HeaderHasTag() && _header.Length > _options.HeaderlessDecisionChars
            && !HarmonyHeaderParser.IsHeaderLike(HeaderText(), allowPartialLast: true))
        {
            // Text that became neither a tag nor a header within a few dozen characters is the
            // answer (parsed content before any reasoning, a model not speaking Harmony): it
            // streams from here on instead of arriving as one lump at MaxHeaderChars.
            var answer = HeaderText().ToString();
            ClearHeader();
            StartMessage(HarmonyMessageHeader.PlainText);
            EmitBody(answer);
            return;
        }

        if (_header.Length > _options.MaxHeaderChars)
        {
            ReleaseOverflowingHeader();
        }
    }

    private void AppendHeaderTag(HarmonyTag tag)
    {
        _header.Append(HarmonyTags.Text(tag));
        _headerHasTag = true;
        if (_header.Length > _options.MaxHeaderChars)
        {
            ReleaseOverflowingHeader();
        }
    }

    private void ReleaseOverflowingHeader()
    {
        Flags |= HarmonyParseFlags.Recovered;
        var text = _header.ToString();
        ClearHeader();
        var parsed = HarmonyHeaderParser.Parse(text);
        if (parsed.Channel is not null)
        {
            // Edge case 11 while streaming: the header never got its <|message|>; what follows
            // the header words is the body.
            OpenFromHeader(parsed, parsed.Leftover);
            return;
        }

        StartMessage(_anyMessage ? HarmonyMessageHeader.TrailingText : HarmonyMessageHeader.PlainText);
        EmitBody(text);
    }

    private void CloseHeaderWithoutBody(HarmonyMessageEnd end)
    {
        var parsed = HarmonyHeaderParser.Parse(HeaderText());
        ClearHeader();
        if (parsed.Channel is not null)
        {
            if (parsed.Leftover is not null || end != HarmonyMessageEnd.Implicit)
            {
                // Edge case 11: channel, then the body without <|message|>.
                Flags |= HarmonyParseFlags.Recovered;
                OpenFromHeader(parsed, parsed.Leftover);
                CloseMessage(end);
            }

            return;
        }

        if (parsed.LeadingText is { Length: > 0 } text)
        {
            Flags |= HarmonyParseFlags.Recovered;
            ReleaseHeaderless(text);
        }
    }

    private void CompleteHeader(HarmonyMessageEnd end)
    {
        var parsed = HarmonyHeaderParser.Parse(HeaderText());
        ClearHeader();
        if (parsed.Channel is not null && parsed.Leftover is not null)
        {
            Flags |= HarmonyParseFlags.Recovered;
            OpenFromHeader(parsed, parsed.Leftover);
            CloseMessage(end);
            return;
        }

        // A header cut off before its body (edge case 13) is dropped; header-less text is kept.
        if (parsed.LeadingText is { Length: > 0 } text)
        {
            if (_anyMessage)
            {
                EmitWholeMessage(HarmonyMessageHeader.TrailingText, text, end);
            }
            else
            {
                _leadingText.Append(_leadingText.Length > 0 ? "\n" : string.Empty).Append(text);
            }
        }
    }

    /// <summary>Header-less text that ended: chain of thought if more follows, else the answer.</summary>
    private void ReleaseHeaderless(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (_anyMessage)
        {
            EmitWholeMessage(HarmonyMessageHeader.TrailingText, text, HarmonyMessageEnd.Implicit);
            return;
        }

        if (_leadingText.Length > 0)
        {
            _leadingText.Append('\n');
        }

        _leadingText.Append(text);
    }

    private void OpenFromHeader(ParsedHarmonyHeader parsed, string? body)
    {
        if (parsed.LeadingText is { Length: > 0 } leading)
        {
            Flags |= HarmonyParseFlags.Recovered;
            ReleaseHeaderless(leading);
        }

        StartMessage(new HarmonyMessageHeader(parsed.Channel, parsed.Recipient, parsed.ContentType, HarmonyMessageOrigin.Header));
        if (!string.IsNullOrEmpty(body))
        {
            EmitBody(body);
        }
    }
}
