using HarmonyProxy.Harmony;

namespace HarmonyProxy.Completions;

/// <summary>
/// A turn that llama-server broke after the client was shown reasoning, and before anything else:
/// it goes on where it stopped (the rest from llama-server's <c>/completion</c>, as raw Harmony),
/// or, where that cannot be asked for, starts over after a visible break in the reasoning.
/// </summary>
internal sealed partial class CompletionTranslator
{
    /// <summary>Written into the reasoning before a turn starts over, so the reader sees why it begins again.</summary>
    public const string StartOverNotice = "\n\n[llama-server failed while reasoning; the model starts again]\n\n";

    private bool _nativeCompletion;

    /// <summary>The reasoning already ends a paragraph (the start-over notice): the next message adds no separator.</summary>
    private bool _reasoningSeparatorDone;

    /// <summary>The client was shown reasoning and nothing else yet, so the turn can go on from there.</summary>
    public bool CanContinue => !_completed && !VisibleOutputStarted && (_reasoningEmitted || _thinkOpen) && ReasoningCapture is { Length: > 0 };

    /// <summary>
    /// The rest of the turn comes as llama-server's <c>/completion</c> events of raw Harmony text
    /// that continues the analysis message the client is reading: it is parsed from inside that
    /// message, without a separator, so nothing is shown twice.
    /// </summary>
    public void ContinueFromCompletion()
    {
        ForgetFailure();
        _nativeCompletion = true;
        _contentRoute = new ParserRoute(this);
        _contentParser = new HarmonyStreamParser(_contentRoute, new HarmonyParserOptions
        {
            StartInContent = true,
            InitialMessage = HarmonyMessageHeader.ReasoningContinuation,
            MaxHeaderChars = _maxHeaderChars,
        });
        _contentRoute.ContinueMessage();
    }

    /// <summary>The turn starts over from a new request: a visible break in the reasoning, then whatever the new request says.</summary>
    public void StartOverAfterBreak()
    {
        EmitReasoning(StartOverNotice, separate: false);
        _reasoningSeparatorDone = true;
        ForgetParsing();
    }

    /// <summary>The last attempt's error and finish: a continuation goes on from where it broke.</summary>
    private void ForgetFailure()
    {
        UpstreamError = null;
        _upstreamFinish = null;
    }
}
