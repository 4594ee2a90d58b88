namespace HarmonyProxy.Harmony;

/// <summary>The raw form: tags as text, found by scanning for <c>&lt;|</c>, and what each tag means in each state.</summary>
internal sealed partial class HarmonyStreamParser
{
    // :: Raw form ---------------------------------------------------------------------------

    private void ScanRaw(ReadOnlySpan<char> text)
    {
        var runStart = 0;
        var searchFrom = 0;
        while (searchFrom < text.Length)
        {
            var rel = text[searchFrom..].IndexOf('<');
            if (rel < 0)
            {
                break;
            }

            var at = searchFrom + rel;
            var match = HarmonyTags.Match(text[at..], out var tag);
            if (match == TagMatch.None)
            {
                searchFrom = at + 1;
                continue;
            }

            if (at > runStart)
            {
                OnRawText(text[runStart..at]);
            }

            if (match == TagMatch.Partial)
            {
                Hold(text[at..]);
                return;
            }

            Flags |= HarmonyParseFlags.TagsSeen;
            OnTag(tag);
            searchFrom = runStart = at + HarmonyTags.Text(tag).Length;
        }

        if (runStart < text.Length)
        {
            OnRawText(text[runStart..]);
        }
    }

    private void OnRawText(ReadOnlySpan<char> text)
    {
        switch (_state)
        {
            case State.Content:
                EmitBody(text);
                break;
            case State.Header:
                AppendHeaderText(text);
                break;
            case State.Between:
                var visible = text.TrimStart();
                if (!visible.IsEmpty)
                {
                    EnterHeader();
                    AppendHeaderText(visible);
                }

                break;
            case State.TerminatorPending:
                if (text.IsWhiteSpace())
                {
                    _pendingWhitespace.Append(text);
                    break;
                }

                // Edge case 31: a terminator followed by ordinary text inside an answer is literal.
                Flags |= HarmonyParseFlags.LiteralTags;
                _state = State.Content;
                _sink.OnText(HarmonyTags.Text(_pendingTerminator));
                if (_pendingWhitespace.Length > 0)
                {
                    _sink.OnText(_pendingWhitespace.ToString());
                    _pendingWhitespace.Clear();
                }

                EmitBody(text);
                break;
            case State.Done:
                if (!text.IsWhiteSpace())
                {
                    Flags |= HarmonyParseFlags.Recovered;
                }

                break;
        }
    }

    private void OnTag(HarmonyTag tag)
    {
        switch (_state)
        {
            case State.Content:
                OnTagInContent(tag);
                break;
            case State.TerminatorPending:
                // Another tag follows: the terminator was real.
                _pendingWhitespace.Clear();
                CloseMessage(EndOf(_pendingTerminator));
                _state = _pendingTerminator == HarmonyTag.Return ? State.Done : State.Between;
                OnTag(tag);
                break;
            case State.Between:
                OnTagBetween(tag);
                break;
            case State.Header:
                OnTagInHeader(tag);
                break;
        }
    }

    private void OnTagInContent(HarmonyTag tag)
    {
        if (_trackJson && _inJsonString)
        {
            // Edge case 31: a tag inside a JSON string of tool arguments is part of the string.
            Flags |= HarmonyParseFlags.LiteralTags;
            _sink.OnText(HarmonyTags.Text(tag));
            return;
        }

        if (_options.LiteralTagsInCode && _code.TagIsQuoted)
        {
            // Answer text that talks about Harmony: `<|channel|>` in code or quotes is text.
            Flags |= HarmonyParseFlags.LiteralTags;
            _code.ObserveLiteral(HarmonyTags.Text(tag));
            _sink.OnText(HarmonyTags.Text(tag));
            return;
        }

        switch (tag)
        {
            case HarmonyTag.Message:
            case HarmonyTag.Constrain:
                _sink.OnText(HarmonyTags.Text(tag));
                break;
            case HarmonyTag.End:
            case HarmonyTag.Call:
            case HarmonyTag.Return:
                if (_isFinalBody && _options.LiteralTerminatorsInFinal)
                {
                    _pendingTerminator = tag;
                    _state = State.TerminatorPending;
                    break;
                }

                CloseMessage(EndOf(tag));
                _state = tag == HarmonyTag.Return ? State.Done : State.Between;
                break;
            case HarmonyTag.Start:
                // Edge case 8: a new message without <|end|> closes the open one.
                Flags |= HarmonyParseFlags.Recovered;
                CloseMessage(HarmonyMessageEnd.Implicit);
                EnterHeader();
                break;
            case HarmonyTag.Channel:
                // Edge case 10: a header inside a body without <|end|><|start|>.
                Flags |= HarmonyParseFlags.Recovered;
                CloseMessage(HarmonyMessageEnd.Implicit);
                EnterHeader();
                AppendHeaderTag(tag);
                break;
        }
    }

    private void OnTagBetween(HarmonyTag tag)
    {
        switch (tag)
        {
            case HarmonyTag.Start:
                EnterHeader();
                break;
            case HarmonyTag.Channel:
            case HarmonyTag.Constrain:
                // Edge case 9: <|start|>assistant was lost; the header begins anyway.
                Flags |= HarmonyParseFlags.Recovered;
                EnterHeader();
                AppendHeaderTag(tag);
                break;
            case HarmonyTag.Message:
                Flags |= HarmonyParseFlags.Recovered;
                StartMessage(new HarmonyMessageHeader(null, null, null, HarmonyMessageOrigin.Header));
                break;
            case HarmonyTag.Return:
                _state = State.Done;
                break;
        }
    }

    private void OnTagInHeader(HarmonyTag tag)
    {
        switch (tag)
        {
            case HarmonyTag.Channel:
            case HarmonyTag.Constrain:
                if (!HeaderHasTag() && !HarmonyHeaderParser.IsHeaderLike(HeaderText(), allowPartialLast: false))
                {
                    // Header-less text ran into a header: it was a message of its own.
                    Flags |= HarmonyParseFlags.Recovered;
                    ReleaseHeaderless(HeaderText().Trim().ToString());
                    ClearHeader();
                }

                AppendHeaderTag(tag);
                break;
            case HarmonyTag.Message:
                {
                    var parsed = HarmonyHeaderParser.Parse(HeaderText());
                    ClearHeader();
                    OpenFromHeader(parsed, body: null);
                    break;
                }

            case HarmonyTag.End:
            case HarmonyTag.Call:
            case HarmonyTag.Return:
                CloseHeaderWithoutBody(EndOf(tag));
                _state = tag == HarmonyTag.Return ? State.Done : State.Between;
                break;
            case HarmonyTag.Start:
                CloseHeaderWithoutBody(HarmonyMessageEnd.Implicit);
                EnterHeader();
                break;
        }
    }
}
