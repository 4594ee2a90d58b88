using HarmonyProxy.Diagnostics;

namespace HarmonyProxy.Completions;

/// <summary>Writing answer text and reasoning to the sink, in the form the reasoning option asks for.</summary>
internal sealed partial class CompletionTranslator
{
    // :: Routing parsed messages ------------------------------------------------------------

    private void EmitContent(ReadOnlySpan<char> text, bool separate)
    {
        if (text.IsEmpty)
        {
            return;
        }

        CloseThink();
        if (separate && ContentChunks > 0)
        {
            ToClientContent("\n");
        }

        ContentChunks++;
        ToClientContent(text);
    }

    /// <summary>Every piece of answer text the client is given: the sink writes it, the inspector keeps it.</summary>
    private void ToClientContent(ReadOnlySpan<char> text)
    {
        Recorder?.ClientText(TrafficPart.Content, text);
        _sink.Content(text);
    }

    /// <summary>Every piece of reasoning the client is given in a reasoning field (none when the option drops it).</summary>
    private void ToClientReasoning(ReadOnlySpan<char> text)
    {
        Recorder?.ClientText(TrafficPart.Reasoning, text);
        _sink.Reasoning(text);
    }

    /// <summary>An answer message that ended without text: the client's content is "" rather than absent.</summary>
    private void EmitEmptyContent()
    {
        if (ContentChunks == 0 && !_emptyContentSent)
        {
            _emptyContentSent = true;
            CloseThink();
            ToClientContent(ReadOnlySpan<char>.Empty);
        }
    }

    /// <summary>Reasoning pieces the parser routed, shown or not: one per upstream delta, which llama-server sends one token at a time.</summary>
    public int ReasoningTokens { get; private set; }

    private void EmitReasoning(ReadOnlySpan<char> text, bool separate)
    {
        if (text.IsEmpty)
        {
            return;
        }

        ReasoningTokens++;
        if (_reasoningSeparatorDone)
        {
            separate = false;
            _reasoningSeparatorDone = false;
        }

        CaptureReasoning(text, separate);
        LoopDetector?.Feed(text);
        switch (_output.Reasoning)
        {
            case ReasoningMode.ReasoningContent or ReasoningMode.Reasoning or ReasoningMode.Both:
                if (separate && _reasoningEmitted)
                {
                    ToClientReasoning("\n");
                }

                _reasoningEmitted = true;
                ReasoningChunks++;
                ToClientReasoning(text);
                break;
            case ReasoningMode.ThinkTags:
                if (!_thinkOpen)
                {
                    // Reasoning after visible text opens a second block rather than mixing them.
                    _thinkOpen = true;
                    ToClientContent(ContentChunks > 0 ? "\n<think>\n" : "<think>\n");
                }
                else if (separate && _reasoningEmitted)
                {
                    ToClientContent("\n");
                }

                _reasoningEmitted = true;
                ReasoningChunks++;
                ToClientContent(text);
                break;
        }
    }

    /// <summary>The turn's reasoning for the reasoning memory, whatever the client is shown; bounded like the fallback text.</summary>
    private void CaptureReasoning(ReadOnlySpan<char> text, bool separate)
    {
        if (ReasoningCapture is not { } capture || capture.Length + text.Length + 1 > MaxFallbackChars)
        {
            return;
        }

        if (separate && capture.Length > 0)
        {
            capture.Append('\n');
        }

        capture.Append(text);
    }

    private void CloseThink()
    {
        if (_thinkOpen)
        {
            _thinkOpen = false;
            _reasoningEmitted = false;
            ToClientContent("\n</think>\n\n");
        }
    }
}
