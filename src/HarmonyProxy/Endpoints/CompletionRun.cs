using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.OpenAi;
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
            TimeSpan.FromSeconds(upstreamOptions.ReadTimeoutSeconds),
            TimeSpan.FromSeconds(upstreamOptions.NoVisibleOutputTimeoutSeconds),
            TimeSpan.FromSeconds(upstreamOptions.TotalTimeoutSeconds));
        using var watchdog = new StreamWatchdog(limits, time, context.RequestAborted);
        using var shutdown = ShutdownSignal.Register(static state => ((StreamWatchdog)state!).EndForShutdown(), watchdog);
        if (prepared.ClientStreams)
        {
            await StreamAsync(watchdog);
        }
        else
        {
            await RespondAsync(watchdog);
        }
    }

    private async Task StreamAsync(StreamWatchdog watchdog)
    {
        await using var sse = new SseResponse(context, time, TimeSpan.FromSeconds(options.Upstream.KeepAliveSeconds));
        var events = wire.OpenStream(sse.Pending);
        using var disposable = events as IDisposable;
        // Step 5: the client's stream (headers with the first event or keep-alive), its event
        // writer (chat chunks or Responses events) and the translator that drives it
        var translator = NewTranslator(events, prepared.ClientWantsUsage);

        var (end, failure) = await RunAttemptsAsync(
            () => translator,
            canRetry: () => !translator.OutputStarted,
            restart: translator.Restart,
            afterEvent: () => sse.FlushAsync(watchdog.Token),
            watchdog);

        if (await EndEarlyAsync(end, translator, nothingSent: !sse.Started))
        {
            return;
        }

        if (end == AttemptEnd.Broken)
        {
            if (failure is not null && !sse.Started)
            {
                await FailBeforeOutputAsync(failure);
                return;
            }

            if (failure is not null)
            {
                // Headers already went out (keep-alive or role delta): the error is an event.
                translator.Fail(failure.Message, failure.Type, failure.Code);
            }

            Log.UpstreamStreamBroken(logger, context.TraceIdentifier, failure?.Code ?? translator.UpstreamError?.Code ?? "upstream_error");
        }

        Record(translator);
        try
        {
            await sse.FlushAsync(context.RequestAborted);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            ClientWentAway();
        }
    }

    private async Task RespondAsync(StreamWatchdog watchdog)
    {
        var accumulator = wire.OpenBody();
        var translator = NewTranslator(accumulator, passUsage: true);

        var (end, failure) = await RunAttemptsAsync(
            () => translator,
            canRetry: () => true,
            restart: () =>
            {
                // Nothing reached the client yet: a retry simply starts a new body.
                accumulator = wire.OpenBody();
                translator = NewTranslator(accumulator, passUsage: true);
            },
            afterEvent: static () => ValueTask.CompletedTask,
            watchdog);

        if (await EndEarlyAsync(end, translator, nothingSent: !translator.OutputStarted))
        {
            return;
        }

        if (end == AttemptEnd.Broken)
        {
            await FailBeforeOutputAsync(failure ?? new UpstreamFailure(502, "The upstream llama-server failed during generation.", OpenAiError.Upstream, "upstream_error"));
            return;
        }

        Record(translator);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(accumulator.ToJson(), context.RequestAborted);
    }

    /// <summary>
    /// The endings both paths share: a gone client ends quietly; a watchdog ends with a 504
    /// when nothing was sent, else with a <c>length</c> finish. True when the response is done.
    /// </summary>
    private async Task<bool> EndEarlyAsync(AttemptEnd end, CompletionTranslator translator, bool nothingSent)
    {
        switch (end)
        {
            case AttemptEnd.ClientGone:
                ClientWentAway();
                Log.ClientDisconnected(logger, context.TraceIdentifier);
                return true;
            case AttemptEnd.Watchdog when nothingSent && Watchdog == WatchdogKind.Shutdown:
                await FailBeforeOutputAsync(new UpstreamFailure(503, "The proxy is shutting down; retry, another replica will answer.", OpenAiError.Server, "shutting_down", TimeSpan.FromSeconds(1)));
                return true;
            case AttemptEnd.Watchdog when nothingSent:
                await FailBeforeOutputAsync(UpstreamFailure.TimedOut(WatchdogName(Watchdog)));
                return true;
            case AttemptEnd.Watchdog:
                translator.Complete(cut: true);
                return false;
            default:
                return false;
        }
    }

    private async Task FailBeforeOutputAsync(UpstreamFailure failure)
    {
        // Every failure records its ending where it happens; this is the fallback for one that did not.
        _ending ??= new CompletionEnding(null, null, WatchdogKind.None, ClientGone: false, AfterHeaders: true, OutputStarted: false);

        Log.UpstreamFailed(logger, context.TraceIdentifier, failure.Status, failure.Code);
        await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code, failure.Param, failure.RetryAfter);
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
