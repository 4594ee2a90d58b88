using System.Buffers;

namespace HarmonyProxy.Harmony;

/// <summary>
/// Follows Markdown code in an answer as it streams, so tag text the answer quotes (inside
/// backticks, a fenced block, or right after a quote mark) can be told from markup that leaked:
/// <c>`&lt;|channel|&gt;`</c> is part of the answer, a bare <c>&lt;|channel|&gt;</c> is not. Inline code
/// ends at a line end, so a stray backtick cannot hide the rest of an answer.
/// </summary>
internal struct CodeSpanTracker
{
    private static readonly SearchValues<char> Marks = SearchValues.Create("`\n");

    private int _backticks;
    private bool _inInline;
    private bool _inFence;
    private char _last;

    /// <summary>True when a tag starting now would be quoted text: inside code, or right after a quote mark or a backtick.</summary>
    public bool TagIsQuoted
    {
        get
        {
            if (_backticks > 0)
            {
                // A backtick run just before the tag opens (or closes) code around it.
                return true;
            }

            return _inInline || _inFence || _last is '"' or '\'' or '“' or '‘';
        }
    }

    /// <summary>Takes answer text in the order it is emitted.</summary>
    public void Observe(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var rest = text;
        while (true)
        {
            var at = rest.IndexOfAny(Marks);
            if (at < 0)
            {
                if (!rest.IsEmpty)
                {
                    EndRun();
                }

                break;
            }

            if (at > 0)
            {
                EndRun();
            }

            if (rest[at] == '`')
            {
                _backticks++;
            }
            else
            {
                EndRun();
                _inInline = false;
            }

            rest = rest[(at + 1)..];
        }

        _last = text[^1];
    }

    /// <summary>Tag text was passed through as literal answer text.</summary>
    public void ObserveLiteral(string tagText)
    {
        EndRun();
        _last = tagText[^1];
    }

    private void EndRun()
    {
        if (_backticks == 0)
        {
            return;
        }

        if (_backticks >= 3)
        {
            _inFence = !_inFence;
            _inInline = false;
        }
        else if (!_inFence)
        {
            _inInline = !_inInline;
        }

        _backticks = 0;
    }
}
