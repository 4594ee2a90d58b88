using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Requests;
using HarmonyProxy.Upstream;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// One completion request against llama-server, from the first attempt to the single ending
/// the client sees. The failure taxonomy (YARP's started/not-started rule):
/// <list type="bullet">
/// <item>before anything reached the client: an HTTP error in OpenAI's shape;</item>
/// <item>after only the role delta or keep-alive comments: the attempt is retried;</item>
/// <item>after output: one OpenAI error event and <c>[DONE]</c>;</item>
/// <item>a watchdog: a <c>length</c> finish and <c>[DONE]</c> (504 if nothing was sent yet).</item>
/// </list>
/// </summary>
internal sealed partial class CompletionRun(
    HttpContext context,
    UpstreamClient upstream,
    TimeProvider time,
    HarmonyProxyOptions options,
    OutputOptions output,
    PreparedRequest prepared,
    ICompletionWire wire,
    ProxyMetrics metrics,
    UpstreamBreakerState breaker,
    ILogger logger)
{
    private const string RawReparse = "raw_reparse";
    private const string HistoryRepairKind = "history_repair";

    /// <summary>How far back, in characters, repeated reasoning is counted.</summary>
    private const int ReasoningLoopWindow = 16 * 1024;

    private readonly long _started = time.GetTimestamp();
    private readonly UpstreamRetryBudget _budget = new(options.Upstream.MaxRetries);
    private int _attempt;
    private bool _rawReparseTried;
    private bool _historyRepairTried;
    private string? _pendingRecovery;

    /// <summary>What the last failure looked like (null while nothing failed, and again once an attempt completes).</summary>
    private CompletionEnding? _ending;

    private enum AttemptEnd
    {
        Completed,
        Broken,
        Watchdog,
        ClientGone,
    }

    /// <summary>How the request ended, classified once from what was recorded where it happened.</summary>
    public CompletionOutcome Outcome => _ending is { } ending ? CompletionOutcomes.Classify(ending) : CompletionOutcome.Ok;

    /// <summary>Requests llama-server received for this client request: every try of every layer, recoveries included.</summary>
    public int Attempts => _budget.Sent;

    /// <summary>The recovery re-requests tried (<c>raw_reparse</c>, <c>history_repair</c>, joined by <c>+</c>), or null.</summary>
    public string? Recovery { get; private set; }

    public WatchdogKind Watchdog { get; private set; }

    /// <summary>Seconds from the request to the first delta beyond the role, or null if none went out.</summary>
    public double? TimeToFirstToken { get; private set; }

    /// <summary>
    /// The translator that produced the client's response (finish, counts, parse flags, usage),
    /// or null when the request failed before any output.
    /// </summary>
    public CompletionTranslator? Result { get; private set; }

    /// <summary>About four bytes of JSON per token: rough, and only used when llama-server reports no usage.</summary>
    private int PromptTokensEstimate => prepared.UpstreamBody.Length / 4;

    /// <summary>Cancelled when the proxy's drain time is over: the generation ends as a watchdog would end it.</summary>
    public CancellationToken ShutdownSignal { get; init; }

    /// <summary>The backend this request is on, and where it moves when one fails before output.</summary>
    public required BackendChoice Backends { get; init; }

    /// <summary>Gather the turn's reasoning for the reasoning memory (<see cref="CompletionTranslator.ReasoningCapture"/>).</summary>
    public bool CaptureReasoning { get; init; }

    public async Task ExecuteAsync()
    {
        var upstreamOptions = options.Upstream;
        var limits = new WatchdogLimits(
            upstreamOptions.ReadTimeout,
            upstreamOptions.NoVisibleOutputTimeout,
            upstreamOptions.TotalTimeout);
        using var watchdog = new StreamWatchdog(limits, time, context.RequestAborted);
        using var shutdown = ShutdownSignal.Register(static state => ((StreamWatchdog)state!).EndForShutdown(), watchdog);

        // Step 5: the client's response (SSE events or one JSON body, in the API's wire format) and
        // the translator that writes it
        await using var response = new ClientResponse(
            context, wire, prepared.ClientStreams, prepared.ClientWantsUsage, NewTranslator, time, upstreamOptions.KeepAlive);
        var (end, failure) = await RunAttemptsAsync(response, watchdog);
        try
        {
            await EndAsync(response, end, failure);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            ClientWentAway();
        }
    }

    /// <summary>
    /// The one ending: a gone client ends quietly; a watchdog ends with a <c>length</c> finish, or
    /// a 504 when there is nothing to show; the drain's end with a retryable error (a 503, or an
    /// error event once output was sent); a break ends with an error (HTTP
    /// before anything was sent, an event after); a completion with its final write.
    /// </summary>
    private async Task EndAsync(ClientResponse response, AttemptEnd end, UpstreamFailure? failure)
    {
        switch (end)
        {
            case AttemptEnd.ClientGone:
                ClientWentAway();
                Log.ClientDisconnected(logger, context.TraceIdentifier);
                return;
            case AttemptEnd.Watchdog when Watchdog == WatchdogKind.Shutdown:
                // Cut at the drain's end, an answer must not read as finished or merely long
                // (length): a retryable error sends the agent to another replica.
                await FailAsync(response, response.HasOutput
                    ? new UpstreamFailure(503, "The proxy shut down before the answer was finished; retry the request, another replica will answer.", OpenAiError.Server, OpenAiError.Server)
                    : new UpstreamFailure(503, "The proxy is shutting down; retry, another replica will answer.", OpenAiError.Server, "shutting_down", TimeSpan.FromSeconds(1)));
                return;
            case AttemptEnd.Watchdog when !response.HasOutput:
                await FailAsync(response, UpstreamFailure.TimedOut(WatchdogName(Watchdog)));
                return;
            case AttemptEnd.Watchdog:
                response.Translator.Complete(cut: true);
                break;
            case AttemptEnd.Broken:
                if (await FailAsync(response, failure ?? new UpstreamFailure(502, "The upstream llama-server failed during generation.", OpenAiError.Upstream, "upstream_error")))
                {
                    return;
                }

                break;
        }

        Record(response.Translator);
        await response.CompleteAsync();
    }

    /// <summary>Ends with an error; true when it was an HTTP error (nothing had been sent), false for an error event.</summary>
    private async Task<bool> FailAsync(ClientResponse response, UpstreamFailure failure)
    {
        // Every failure records its ending where it happens; this is the fallback for one that did not.
        _ending ??= new CompletionEnding(null, null, WatchdogKind.None, ClientGone: false, AfterHeaders: true, OutputStarted: false);
        if (await response.FailAsync(failure))
        {
            Log.UpstreamFailed(logger, context.TraceIdentifier, failure.Status, failure.Code);
            return true;
        }

        Log.UpstreamStreamBroken(logger, context.TraceIdentifier, failure.Code);
        return false;
    }

    private void ClientWentAway() =>
        _ending = new CompletionEnding(null, null, WatchdogKind.None, ClientGone: true, AfterHeaders: false, OutputStarted: false);

    private CompletionTranslator NewTranslator(ICompletionSink sink, bool passUsage) =>
        new(sink, output, passUsage, options.Parser.MaxHeaderChars)
        {
            EstimatedPromptTokens = PromptTokensEstimate,
            ReasoningCapture = CaptureReasoning ? new System.Text.StringBuilder() : null,
            LoopDetector = options.LoopGuard.ReasoningRepeatChars > 0
                ? new ReasoningLoopDetector(options.LoopGuard.ReasoningRepeatChars, options.LoopGuard.ReasoningRepeatCount, ReasoningLoopWindow)
                : null,
        };

    private void Record(CompletionTranslator translator)
    {
        Result = translator;
        if (TimeToFirstToken is null && translator.OutputStarted)
        {
            TimeToFirstToken = time.GetElapsedTime(_started).TotalSeconds;
        }
    }
}
