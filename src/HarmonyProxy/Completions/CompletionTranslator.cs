using System.Text;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Harmony;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Completions;

/// <summary>
/// Turns llama-server's chat completion chunks, whatever the flavour (raw Harmony in
/// <c>content</c>, the stripped form, or llama-server's own parsing), into one clean OpenAI
/// completion written to an <see cref="ICompletionSink"/>. Pure: JSON bytes in, calls out.
/// </summary>
/// <remarks>
/// Flow per upstream event: (1) read the chunk (<see cref="ProcessEvent"/>), (2) feed
/// <c>content</c> and <c>reasoning_content</c> text to their Harmony parsers, (3) route each
/// parsed message by <see cref="HarmonyClassifier"/> to content, reasoning or a tool call,
/// honouring <see cref="OutputOptions"/>, (4) at the end (<see cref="Complete"/>) close the
/// parsers, apply <see cref="HarmonyFallback"/> if nothing visible came, and finish once.
/// </remarks>
internal sealed partial class CompletionTranslator
{
    private const int MaxFallbackChars = 256 * 1024;

    private readonly ICompletionSink _sink;
    private readonly OutputOptions _output;
    private readonly int _maxHeaderChars;
    private readonly bool _passUsage;
    private ParserRoute _contentRoute;
    private ParserRoute _reasoningRoute;
    private StringBuilder? _fallbackText;
    private readonly Dictionary<int, UpstreamToolCall> _upstreamToolCalls = [];

    private HarmonyStreamParser? _contentParser;
    private HarmonyStreamParser? _reasoningParser;
    private bool _begun;
    private bool _completed;
    private bool _upstreamStructured;
    private bool _reasoningEmitted;
    private bool _thinkOpen;
    private readonly List<ToolCallRoute> _calls = [];
    private readonly List<string> _nativeCallIds = [];
    private int _nativeCalls;
    private int _callsLetThrough;
    private string? _upstreamFinish;
    private byte[]? _usage;
    private int _upstreamDeltas;
    private bool _emptyContentSent;

    public CompletionTranslator(ICompletionSink sink, OutputOptions output, bool passUsage, int maxHeaderChars = 4096)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(output);
        _sink = sink;
        _output = output;
        _passUsage = passUsage;
        _maxHeaderChars = maxHeaderChars;
        _contentRoute = new ParserRoute(this);
        _reasoningRoute = new ParserRoute(this);
    }

    /// <summary>True once anything the user can see (content or a tool call) was written.</summary>
    public bool VisibleOutputStarted => ContentChunks > 0 || _calls.Count > 0;

    /// <summary>True once any delta beyond the role was written (reasoning included): from then on a retry would duplicate output.</summary>
    public bool OutputStarted => VisibleOutputStarted || _reasoningEmitted || _thinkOpen;

    /// <summary>
    /// Forgets everything the last upstream attempt said so a retried attempt starts clean; the
    /// envelope (id, role delta) already sent to the client is kept. Only valid while
    /// <see cref="OutputStarted"/> is false.
    /// </summary>
    public void Restart()
    {
        if (OutputStarted || _completed)
        {
            throw new InvalidOperationException("Output already started; the completion cannot be restarted.");
        }

        ForgetParsing();
        _unansweredBuiltIn = null;
        _unofferedBuiltIns = 0;
        _calls.Clear();
        _nativeCallIds.Clear();
        _nativeCalls = 0;
        _callsLetThrough = 0;
        DroppedToolCalls = 0;
        _usage = null;
        _upstreamDeltas = 0;
        ReasoningTokens = 0;
        ChunkRead = false;
    }

    /// <summary>What the parsers and the last attempt's failure held: a new request's text starts from nothing.</summary>
    private void ForgetParsing()
    {
        _contentParser = null;
        _reasoningParser = null;
        _contentRoute = new ParserRoute(this);
        _reasoningRoute = new ParserRoute(this);
        _fallbackText = null;
        _upstreamToolCalls.Clear();
        ReasoningCapture?.Clear();
        LoopDetector?.Reset();
        _upstreamStructured = false;
        ForgetFailure();
    }

    public bool Completed => _completed;

    /// <summary>What the Harmony parsers met; for metrics and logs.</summary>
    public HarmonyParseFlags ParseFlags => (_contentParser?.Flags ?? HarmonyParseFlags.None) | (_reasoningParser?.Flags ?? HarmonyParseFlags.None);

    public bool FallbackUsed { get; private set; }

    /// <summary>How llama-server rendered the turn: <c>parsed</c> (its own fields), <c>stripped</c>, <c>raw</c> (tags in content) or <c>plain</c> (no Harmony seen).</summary>
    public string UpstreamFlavour =>
        _upstreamStructured ? "parsed"
        : ParseFlags.HasFlag(HarmonyParseFlags.StrippedForm) ? "stripped"
        : ParseFlags.HasFlag(HarmonyParseFlags.TagsSeen) ? "raw"
        : "plain";

    /// <summary>
    /// When set, the turn's reasoning is gathered here whatever the reasoning option shows the
    /// client: the reasoning memory keeps it for a tool-call turn. One append per reasoning delta.
    /// </summary>
    public StringBuilder? ReasoningCapture { get; init; }

    /// <summary>The request inspector's record of what llama-server produced and what the client was given, when it is on.</summary>
    public ITrafficRecorder? Recorder { get; init; }

    /// <summary>Watches the reasoning for a loop when set (<see cref="ReasoningLooping"/>).</summary>
    public ReasoningLoopDetector? LoopDetector { get; init; }

    /// <summary>The model's hidden reasoning keeps repeating itself: the generation should end.</summary>
    public bool ReasoningLooping => LoopDetector?.Looping == true;

    /// <summary>The ids of the calls the client got as native tool calls (what it sends back in its history).</summary>
    public IReadOnlyList<string> NativeToolCallIds => _nativeCallIds;

    /// <summary>Tool calls the model made, in whatever form they reached the client (built-in calls nobody offered included: they count as dropped).</summary>
    public int ToolCallCount => _calls.Count + _unofferedBuiltIns;

    /// <summary>Calls dropped because the request did not offer the tool or allows one call only.</summary>
    public int DroppedToolCalls { get; private set; }

    /// <summary>Answer-text deltas written (for metrics and the summary log).</summary>
    public int ContentChunks { get; private set; }

    /// <summary>Reasoning deltas written (for metrics and the summary log).</summary>
    public int ReasoningChunks { get; private set; }

    public FinishReason? FinishReason { get; private set; }

    /// <summary>Upstream's usage object, when it sent one (llama-server: prompt/completion tokens).</summary>
    public ReadOnlyMemory<byte> Usage => _usage;

    /// <summary>The prompt's size in tokens, roughly (the request's bytes / 4), for a usage estimate when upstream sends none.</summary>
    public int EstimatedPromptTokens { get; set; }

    /// <summary>True when the usage the client got was the proxy's estimate (upstream sent none).</summary>
    public bool UsageEstimated { get; private set; }

    /// <summary>Closes the parsers and writes the single finish (or nothing if already completed).</summary>
    /// <param name="cut">The proxy ended the generation (a watchdog): finish as <c>length</c>.</param>
    public void Complete(bool cut = false)
    {
        if (_completed)
        {
            return;
        }

        EnsureBegun();
        var truncated = cut || _upstreamFinish == "length";
        _reasoningParser?.Complete(truncated);
        _contentParser?.Complete(truncated);
        foreach (var call in _upstreamToolCalls.Values)
        {
            EndToolCall(call.Index, call.ArgumentsSeen);
        }

        if (!VisibleOutputStarted)
        {
            var recovered = HarmonyFallback.ExtractFinalText(_fallbackText?.ToString());
            if (recovered is not null)
            {
                FallbackUsed = true;
                EmitContent(recovered, separate: false);
            }
        }

        ShowUnansweredBuiltIn();

        CloseThink();
        _completed = true;
        // Calls rendered as text or dropped are not tool calls to the client.
        FinishReason = CompletedTurn.FinishReasonFor(truncated, _nativeCalls > 0);
        _sink.Finish(FinishReason, _passUsage ? LlamaServerUsage.WithReasoningTokens(_usage ?? EstimateUsage(), ReasoningTokens) : default);
    }

    /// <summary>
    /// Usage when llama-server sent none (older builds, builds that only send it when asked, a
    /// stream cut by a watchdog): what was relayed, one upstream delta per token as llama-server
    /// sends them, so a client that asked always gets usage.
    /// </summary>
    private byte[] EstimateUsage()
    {
        UsageEstimated = true;
        return LlamaServerUsage.Estimated(EstimatedPromptTokens, _upstreamDeltas);
    }

    /// <summary>Ends the completion with an error (upstream broke after output started).</summary>
    public void Fail(string message, string type, string? code)
    {
        if (_completed)
        {
            return;
        }

        EnsureBegun();
        _completed = true;
        Recorder?.ClientText(TrafficPart.Error, message);
        _sink.Fail(message, type, code);
    }

    // :: Text from upstream -----------------------------------------------------------------

    private void OnUpstreamContent(ReadOnlySpan<char> text)
    {
        _upstreamDeltas++;
        KeepForFallback(text);
        _contentParser ??= new HarmonyStreamParser(_contentRoute, new HarmonyParserOptions
        {
            // llama-server that already split reasoning or calls out sends clean answer text;
            // leaked tags are still recognised from inside the body.
            StartInContent = _upstreamStructured,
            LiteralTagsInCode = _upstreamStructured,
            MaxHeaderChars = _maxHeaderChars,
        });
        _contentParser.Feed(text);
    }

    private void OnUpstreamReasoning(ReadOnlySpan<char> text)
    {
        _upstreamDeltas++;
        // Reasoning llama-server already split out is never kept for the final-text fallback:
        // a turn that only reasoned (out of tokens, llama.cpp #15789) must not answer with it.
        _upstreamStructured = true;
        _reasoningParser ??= new HarmonyStreamParser(_reasoningRoute, new HarmonyParserOptions
        {
            StartInContent = true,
            InitialMessage = HarmonyMessageHeader.ReasoningContinuation,
            LiteralTagsInCode = true,
            MaxHeaderChars = _maxHeaderChars,
        });
        _reasoningParser.Feed(text);
    }

    private void OnUpstreamToolCall(int upstreamIndex, string? id, string? name, ReadOnlySpan<char> arguments)
    {
        _upstreamDeltas++;
        _upstreamStructured = true;
        if (!_upstreamToolCalls.TryGetValue(upstreamIndex, out var call))
        {
            if (string.IsNullOrEmpty(name))
            {
                // Arguments before a name cannot be attributed; llama-server always names first.
                return;
            }

            call = new UpstreamToolCall(StartToolCall(HarmonyClassifier.ToolName(name)));
            _upstreamToolCalls[upstreamIndex] = call;
        }

        if (!arguments.IsEmpty)
        {
            call.ArgumentsSeen = true;
            ToolCallText(call.Index, arguments);
        }
    }

    private void KeepForFallback(ReadOnlySpan<char> text)
    {
        // Only needed while nothing visible went out: then the (possibly long) reasoning it holds
        // is let go rather than kept for the rest of the stream. Bounded so a reasoning loop
        // cannot grow it.
        if (VisibleOutputStarted)
        {
            _fallbackText = null;
        }
        else if ((_fallbackText?.Length ?? 0) + text.Length <= MaxFallbackChars)
        {
            (_fallbackText ??= new StringBuilder()).Append(text);
        }
    }
}
