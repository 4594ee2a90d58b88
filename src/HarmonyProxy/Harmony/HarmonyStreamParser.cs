using System.Text;

namespace HarmonyProxy.Harmony;

/// <summary>What the parser had to do to make sense of a turn; read after <see cref="HarmonyStreamParser.Complete"/>.</summary>
[Flags]
internal enum HarmonyParseFlags
{
    None = 0,

    /// <summary>At least one structural tag was seen (the text was raw Harmony, not clean).</summary>
    TagsSeen = 1,

    /// <summary>The output was the stripped form (special tokens not printed).</summary>
    StrippedForm = 2,

    /// <summary>A malformed shape was recovered (missing tags, header-less text, overflowing header).</summary>
    Recovered = 4,

    /// <summary>Tag text was kept literally (inside a JSON string or after a terminator in a final body).</summary>
    LiteralTags = 8,
}

/// <summary>
/// Incremental, synchronous Harmony parser: text deltas in (split anywhere, even inside a tag),
/// events out through an <see cref="IHarmonyEventSink"/>. It follows docs/harmony-format.md section 7 and
/// starts in header state because llama-server's prompt ends with <c>&lt;|start|&gt;assistant</c>.
/// </summary>
/// <remarks>
/// Latency contract: everything a delta carries is released in the same call except a suffix
/// that could still become a tag (at most 12 characters), and header text, which is not output.
/// The state machine:
/// <code>
///   Detect ──'&lt;', words──▶ Header ──&lt;|message|&gt;──▶ Content ──&lt;|end|&gt;/&lt;|call|&gt;──▶ Between
///      │                      ▲                          │  &lt;|start|&gt;/&lt;|channel|&gt;       │
///      │                      └──────────────────────────┴──────────────────────────────┘
///      └─"analysisWe…"──▶ stripped form (StrippedHeader ⇄ StrippedContent, split on "assistant"+channel)
///   &lt;|return|&gt; ──▶ Done
/// </code>
/// </remarks>
internal sealed partial class HarmonyStreamParser
{
    private enum Mode
    {
        Detect,
        Raw,
        Stripped,
    }

    private enum State
    {
        Header,
        Content,
        TerminatorPending,
        Between,
        Done,
        StrippedHeader,
        StrippedContent,
    }

    private const int DetectLimit = 64;

    private readonly IHarmonyEventSink _sink;
    private readonly HarmonyParserOptions _options;
    private readonly StringBuilder _header = new();
    private readonly StringBuilder _leadingText = new();
    private readonly StringBuilder _pendingWhitespace = new();
    private readonly char[] _pending = new char[32];
    private char[] _scratch = new char[64];
    private int _pendingLength;

    private Mode _mode;
    private State _state;
    private bool _anyMessage;
    private bool _headerHasTag;
    private bool _completed;
    private HarmonyTag _pendingTerminator;

    // Per open message.
    private bool _messageOpen;
    private bool _trackJson;
    private bool _inJsonString;
    private bool _jsonEscape;
    private bool _isFinalBody;
    private CodeSpanTracker _code;
    private string? _strippedChannel;

    public HarmonyStreamParser(IHarmonyEventSink sink, HarmonyParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _options = options ?? HarmonyParserOptions.Default;
        if (_options.StartInContent)
        {
            _mode = Mode.Raw;
            StartMessage(_options.InitialMessage);
        }
        else
        {
            _mode = Mode.Detect;
            _state = State.Header;
        }
    }

    public HarmonyParseFlags Flags { get; private set; }

    /// <summary>Feeds the next piece of generated text.</summary>
    public void Feed(ReadOnlySpan<char> delta)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The parser was already completed.");
        }

        if (delta.IsEmpty)
        {
            return;
        }

        if (_pendingLength == 0)
        {
            Dispatch(delta);
            return;
        }

        // Rare path: the previous delta ended in what could be a tag; join the two.
        var total = _pendingLength + delta.Length;
        if (_scratch.Length < total)
        {
            _scratch = new char[Math.Max(total, _scratch.Length * 2)];
        }

        _pending.AsSpan(0, _pendingLength).CopyTo(_scratch);
        delta.CopyTo(_scratch.AsSpan(_pendingLength));
        _pendingLength = 0;
        Dispatch(_scratch.AsSpan(0, total));
    }

    /// <summary>Ends the stream: releases held text, closes what is open and reports the end.</summary>
    /// <param name="truncated">Upstream stopped because of a length limit.</param>
    public void Complete(bool truncated = false)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (_mode == Mode.Detect)
        {
            _mode = Mode.Raw;
            var buffered = _header.ToString();
            ClearHeader();
            ScanRaw(buffered);
        }

        if (_pendingLength > 0)
        {
            // A partial tag at the very end is just text.
            var held = new string(_pending, 0, _pendingLength);
            _pendingLength = 0;
            if (_mode == Mode.Stripped)
            {
                ReleaseStrippedHold(held);
            }
            else
            {
                OnRawText(held);
            }
        }

        var end = truncated ? HarmonyMessageEnd.Truncated : HarmonyMessageEnd.EndOfStream;
        switch (_state)
        {
            case State.Header when (Flags & HarmonyParseFlags.TagsSeen) == 0 && !_anyMessage:
                // No structure at all: the text is the plain answer, byte for byte.
                if (_header.Length > 0)
                {
                    EmitWholeMessage(HarmonyMessageHeader.PlainText, _header.ToString(), end);
                    ClearHeader();
                }

                break;
            case State.Header:
                CompleteHeader(end);
                break;
            case State.Content:
            case State.StrippedContent:
                CloseMessage(end);
                break;
            case State.TerminatorPending:
                CloseMessage(EndOf(_pendingTerminator));
                break;
            case State.StrippedHeader:
                CompleteStrippedHeader(end);
                break;
        }

        if (_leadingText.Length > 0)
        {
            // Header-less text with nothing after it is the answer itself.
            EmitWholeMessage(HarmonyMessageHeader.PlainText, _leadingText.ToString(), end);
            _leadingText.Clear();
        }

        _state = State.Done;
        _sink.OnStreamEnd(truncated);
    }

    private void Dispatch(ReadOnlySpan<char> text)
    {
        switch (_mode)
        {
            case Mode.Raw:
                ScanRaw(text);
                break;
            case Mode.Stripped:
                ScanStripped(text);
                break;
            default:
                Detect(text);
                break;
        }
    }

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
