using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Forwarding;

/// <summary>
/// One request through the forwarder's steps (<see cref="CompletionForwarder"/>), and the facts
/// of its ending, recorded where they happen. The failure taxonomy is YARP's started/not-started
/// rule: before anything reached the client, an HTTP error in the API's shape; after only the
/// role delta or keep-alives, another attempt; after output, one error event; a watchdog, a
/// <c>length</c> finish (504 if nothing was sent yet).
/// </summary>
internal sealed partial class ForwardingRun(CompletionForwarder forwarder, ForwardRequest request, IClientChannel channel, ForwarderSettings options) : IDisposable
{
    private const string RawReparse = "raw_reparse";
    private const string HistoryRepair = "history_repair";
    private const string Continuation = "continuation";
    private const string StartOver = "start_over";

    /// <summary>How far back, in characters, repeated reasoning is counted.</summary>
    private const int ReasoningLoopWindow = 16 * 1024;

    private readonly List<AttemptRecord> _attempts = [];
    private byte[] _body = request.Prepared.UpstreamBody;
    private BackendChoice? _backends;
    private StreamWatchdog? _watchdog;

    /// <summary>What the last failure looked like (null while nothing failed, and again once an attempt completes).</summary>
    private CompletionEnding? _ending;
    private string? _failureCode;
    private string? _recovery;
    private WatchdogKind _watchdogFired;
    private double? _timeToFirstToken;

    /// <summary>The translator whose counts the result reports; null when the request failed before any output.</summary>
    public CompletionTranslator? Translator { get; private set; }

    private BackendChoice Backends => _backends!;

    private StreamWatchdog Watchdog => _watchdog!;

    private string RequestId => request.RequestId;

    public async Task<CompletionResult> RunAsync()
    {
        // Step 1: a slot on a backend that serves the model (the conversation's, unless it is full
        // while another is free), or 404 for a model none serves, or 429
        var model = request.Prepared.Model;
        if (!forwarder.Pool.Serves(model))
        {
            var served = string.Join(", ", forwarder.Pool.ServedModels().Select(served => served.Id));
            await channel.FailAsync(new UpstreamFailure(404, $"The model '{model}' does not exist on this proxy's llama-servers; they serve: {served}.", OpenAiError.InvalidRequest, "model_not_found"));
            return Result(CompletionOutcome.ClientError, "model_not_found");
        }

        var lease = await forwarder.Pool.AcquireAsync(request.AffinityKey, avoid: null, model, request.ClientAborted);
        if (lease is null)
        {
            await channel.FailAsync(new UpstreamFailure(429, "Too many requests are waiting for the upstream llama-server; retry shortly.", "rate_limit_error", "queue_full", TimeSpan.FromSeconds(1)));
            return Result(CompletionOutcome.Rejected, "queue_full");
        }

        _backends = new BackendChoice(forwarder.Pool, lease, request.AffinityKey, model);
        var upstream = options.Upstream;
        var watchdog = _watchdog = new StreamWatchdog(new WatchdogLimits(upstream.ReadTimeout, upstream.NoVisibleOutputTimeout, upstream.TotalTimeout), forwarder.Time, request.ClientAborted);
        using var shutdown = request.Shutdown.Register(static state => ((StreamWatchdog)state!).EndForShutdown(), watchdog);
        channel.Open(NewTranslator);

        // Step 2: the attempts, under the one retry strategy
        AttemptOutcome outcome;
        try
        {
            outcome = await forwarder.Retry.ExecuteAsync(static (context, run) => run.AttemptAsync(context), Decide, this, watchdog.Token);
        }
        catch (OperationCanceledException exception)
        {
            // Cancelled while waiting out a backoff: the watchdog, the drain or the client.
            outcome = new AttemptOutcome(Classify(exception, afterHeaders: false, outputStarted: false));
        }

        // Step 3: the one ending
        try
        {
            await EndAsync(outcome);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            ClientWentAway();
        }

        // Step 5: the ending value
        var ending = _ending is { } failed ? CompletionOutcomes.Classify(failed) : CompletionOutcome.Ok;
        return Result(ending, ending == CompletionOutcome.Ok ? null : _failureCode);
    }

    /// <summary>Gives back the slot and stops the watchdog's timers.</summary>
    public void Dispose()
    {
        _watchdog?.Dispose();
        _backends?.Dispose();
    }

    /// <summary>
    /// The one ending: a gone client ends quietly; a watchdog ends with a <c>length</c> finish, or
    /// a 504 when there is nothing to show; the drain's end with a retryable error (a 503, or an
    /// error event once output was sent); a break ends with an error (HTTP before anything was
    /// sent, an event after); a completion with its final write.
    /// </summary>
    private async Task EndAsync(AttemptOutcome outcome)
    {
        switch (outcome.End)
        {
            case AttemptEnd.ClientGone:
                ClientWentAway();
                Log.ClientDisconnected(forwarder.Logger, RequestId);
                return;
            case AttemptEnd.Watchdog when _watchdogFired == WatchdogKind.Shutdown:
                // Cut at the drain's end, an answer must not read as finished or merely long
                // (length): a retryable error sends the agent to another replica.
                await FailAsync(channel.HasOutput
                    ? new UpstreamFailure(503, "The proxy shut down before the answer was finished; retry the request, another replica will answer.", OpenAiError.Server, OpenAiError.Server)
                    : new UpstreamFailure(503, "The proxy is shutting down; retry, another replica will answer.", OpenAiError.Server, "shutting_down", TimeSpan.FromSeconds(1)));
                return;
            case AttemptEnd.Watchdog when !channel.HasOutput:
                await FailAsync(UpstreamFailure.TimedOut(_watchdogFired.Name()));
                return;
            case AttemptEnd.Watchdog:
                channel.Translator.Complete(cut: true);
                break;
            case AttemptEnd.Broken:
                if (await FailAsync(outcome.Failure ?? new UpstreamFailure(502, "The upstream llama-server failed during generation.", OpenAiError.Upstream, "upstream_error")))
                {
                    return;
                }

                break;
        }

        Record(channel.Translator);
        await channel.CompleteAsync();
    }

    /// <summary>Ends with an error; true when it was an HTTP error (nothing had been sent), false for an error event.</summary>
    private async Task<bool> FailAsync(UpstreamFailure failure)
    {
        // Every failure records its ending where it happens; this is the fallback for one that did not.
        _ending ??= new CompletionEnding(null, null, WatchdogKind.None, ClientGone: false, AfterHeaders: true, OutputStarted: false);
        _failureCode = failure.Code;
        if (await channel.FailAsync(failure))
        {
            Log.UpstreamFailed(forwarder.Logger, RequestId, failure.Status, failure.Code);
            return true;
        }

        Log.UpstreamStreamBroken(forwarder.Logger, RequestId, failure.Code);
        return false;
    }

    private void ClientWentAway() =>
        _ending = new CompletionEnding(null, null, WatchdogKind.None, ClientGone: true, AfterHeaders: false, OutputStarted: false);

    private CompletionTranslator NewTranslator(ICompletionSink sink, bool passUsage) =>
        new(sink, request.Output, passUsage, options.Parser.MaxHeaderChars)
        {
            // About four bytes of JSON per token: rough, and only used when llama-server reports no usage.
            EstimatedPromptTokens = request.Prepared.UpstreamBody.Length / 4,
            Created = forwarder.Time.GetUtcNow().ToUnixTimeSeconds(),
            // For the reasoning memory (a tool-call turn), and for a turn broken while reasoning to go on from.
            ReasoningCapture = new System.Text.StringBuilder(),
            Recorder = request.Recorder,
            LoopDetector = options.LoopGuard.ReasoningRepeatChars > 0
                ? new ReasoningLoopDetector(options.LoopGuard.ReasoningRepeatChars, options.LoopGuard.ReasoningRepeatCount, ReasoningLoopWindow)
                : null,
        };

    private void Record(CompletionTranslator translator)
    {
        Translator = translator;
        NoteFirstToken(translator);
    }

    private void NoteFirstToken(CompletionTranslator translator)
    {
        if (_timeToFirstToken is null && translator.OutputStarted)
        {
            _timeToFirstToken = forwarder.Time.GetElapsedTime(request.Started).TotalSeconds;
        }
    }

    private CompletionResult Result(CompletionOutcome outcome, string? failureCode)
    {
        var translator = Translator;
        return new CompletionResult
        {
            RequestId = RequestId,
            Endpoint = request.Endpoint,
            Outcome = outcome,
            Status = channel.Status,
            FailureCode = failureCode,
            Model = request.Prepared.Model,
            Stream = request.Prepared.ClientStreams,
            Client = request.Client,
            AttemptLog = _attempts,
            Recovery = _recovery,
            Watchdog = _watchdogFired,
            TimeToFirstToken = _timeToFirstToken,
            DurationSeconds = forwarder.Time.GetElapsedTime(request.Started).TotalSeconds,
            ContentChunks = translator?.ContentChunks ?? 0,
            ReasoningChunks = translator?.ReasoningChunks ?? 0,
            ToolCalls = translator?.ToolCallCount ?? 0,
            DroppedToolCalls = translator?.DroppedToolCalls ?? 0,
            FallbackUsed = translator?.FallbackUsed ?? false,
            FinishReason = translator?.FinishReason?.Name,
            ParseFlags = translator?.ParseFlags ?? Harmony.HarmonyParseFlags.None,
            UpstreamFlavour = translator?.UpstreamFlavour,
            Tokens = translator is not null && LlamaServerUsage.TryRead(translator.Usage.Span, out var prompt, out var completion) ? (prompt, completion) : null,
        };
    }
}
