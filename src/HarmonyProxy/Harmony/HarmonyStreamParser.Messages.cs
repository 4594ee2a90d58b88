namespace HarmonyProxy.Harmony;

/// <summary>Messages: opening, body text (with JSON-string and Markdown-code tracking), closing; and the small buffers.</summary>
internal sealed partial class HarmonyStreamParser
{
    // :: Messages ---------------------------------------------------------------------------

    private void StartMessage(HarmonyMessageHeader header)
    {
        if (_leadingText.Length > 0)
        {
            // Edge case 15a: header-less text followed by a real message was reasoning.
            var leading = _leadingText.ToString();
            _leadingText.Clear();
            EmitWholeMessage(HarmonyMessageHeader.LeadingText, leading, HarmonyMessageEnd.End);
        }

        _anyMessage = true;
        _messageOpen = true;
        _trackJson = header.ContentType == "json" || (header.Recipient is not null && header.Recipient != "assistant");
        _inJsonString = false;
        _jsonEscape = false;
        _isFinalBody = header.Channel == "final" && (header.Recipient is null or "assistant");
        _code = default;
        _state = _mode == Mode.Stripped ? State.StrippedContent : State.Content;
        _sink.OnMessageStart(header);
    }

    private void EmitWholeMessage(HarmonyMessageHeader header, string text, HarmonyMessageEnd end)
    {
        var state = _state;
        _anyMessage = true;
        _sink.OnMessageStart(header);
        _sink.OnText(text);
        _sink.OnMessageEnd(end);
        _state = state;
    }

    private void EmitBody(ReadOnlySpan<char> text)
    {
        if (_trackJson)
        {
            TrackJsonStrings(text);
        }
        else if (_options.LiteralTagsInCode)
        {
            _code.Observe(text);
        }

        _sink.OnText(text);
    }

    private void CloseMessage(HarmonyMessageEnd end)
    {
        if (!_messageOpen)
        {
            return;
        }

        _messageOpen = false;
        _trackJson = false;
        _isFinalBody = false;
        _sink.OnMessageEnd(end);
    }

    private void EnterHeader()
    {
        _state = State.Header;
        ClearHeader();
    }

    private void ClearHeader()
    {
        _header.Clear();
        _headerHasTag = false;
    }

    private void TrackJsonStrings(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (_jsonEscape)
            {
                _jsonEscape = false;
            }
            else if (_inJsonString)
            {
                if (c == '\\')
                {
                    _jsonEscape = true;
                }
                else if (c == '"')
                {
                    _inJsonString = false;
                }
            }
            else if (c == '"')
            {
                _inJsonString = true;
            }
        }
    }

    private void Hold(ReadOnlySpan<char> text)
    {
        text.CopyTo(_pending);
        _pendingLength = text.Length;
    }

    private bool HeaderHasTag() => _headerHasTag;

    private ReadOnlySpan<char> HeaderText()
    {
        // Headers are short; a single chunk is the norm, so this rarely copies.
        foreach (var chunk in _header.GetChunks())
        {
            if (chunk.Length == _header.Length)
            {
                return chunk.Span;
            }

            break;
        }

        return _header.ToString();
    }

    private static HarmonyMessageEnd EndOf(HarmonyTag tag) => tag switch
    {
        HarmonyTag.Call => HarmonyMessageEnd.Call,
        HarmonyTag.Return => HarmonyMessageEnd.Return,
        _ => HarmonyMessageEnd.End,
    };
}
