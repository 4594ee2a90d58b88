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
}
