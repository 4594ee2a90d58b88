using System.Diagnostics;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Preparation;
using HarmonyProxy.Upstream;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Forwarding;

/// <summary>Step 2: one attempt (act on the last decision, send, relay), and the decision after a broken one.</summary>
internal sealed partial class ForwardingRun
{
    private byte[]? _recoveredBody;
    private bool _rawReparseTried;
    private bool _historyRepairTried;
    private bool _continuationTried;

    /// <summary>The <c>/completion</c> body that continues the turn, while the attempt is a continuation.</summary>
    private byte[]? _completionBody;
    private bool _backendReported;
    private bool _cannotMove;

    /// <summary>The last attempt's failure: what a request that cannot move ends with, and what the logs name.</summary>
    private UpstreamFailure? _lastFailure;

    /// <summary>
    /// The retry strategy's <c>ShouldHandle</c> for this request: the facts of the attempt that just
    /// broke, given to <see cref="RetryDecision"/>, and the decision noted on its record.
    /// </summary>
    private RetryAction Decide(AttemptOutcome outcome, int attemptNumber)
    {
        if (outcome.End != AttemptEnd.Broken || outcome.Failure is not { } failure || _cannotMove)
        {
            return RetryAction.Stop;
        }

        var kind = failure.Kind;
        _recoveredBody = kind switch
        {
            UpstreamErrorKind.ParseFailure when !_rawReparseTried => RecoveryRequests.WithRawOutput(_body),
            UpstreamErrorKind.TemplateHistory when !_historyRepairTried => RecoveryRequests.WithRepairedHistory(_body, out _),
            _ => null,
        };
        var action = RetryDecision.Decide(new RetryFacts(
            kind,
            outcome.CircuitOpen,
            OutputStarted: !channel.CanRestart,
            RetriesLeft: forwarder.Retry.MaxRetries - attemptNumber,
            AnotherBackend: Backends.HasAnother,
            CanReparseRaw: kind == UpstreamErrorKind.ParseFailure && _recoveredBody is not null,
            CanRepairHistory: kind == UpstreamErrorKind.TemplateHistory && _recoveredBody is not null,
            CanContinue: kind == UpstreamErrorKind.ParseFailure && !_continuationTried && channel.Translator.CanContinue));
        if (action != RetryAction.Stop && _attempts.Count > 0)
        {
            _attempts[^1] = _attempts[^1] with { Next = NextName(action) };
        }

        return action;
    }

    /// <summary>One attempt: 2a act on the decision, 2b send, 2c relay.</summary>
    private async ValueTask<AttemptOutcome> AttemptAsync(ResilienceContext context)
    {
        // Step 2a: what the last attempt's failure led to (nothing, for the first)
        var recovery = await ActOnDecisionAsync(context.Properties.GetValue(ForwarderRetry.Decision, RetryAction.Stop));
        if (_cannotMove)
        {
            // No other backend took the request: the last failure is its ending.
            return new AttemptOutcome(AttemptEnd.Broken, _lastFailure);
        }

        var number = _attempts.Count + 1;
        var backend = Backends.Current;
        Watchdog.PauseIdle();
        using var span = ProxyTelemetry.StartAttempt(number, recovery);
        var outcome = await SendAndRelayAsync(backend);
        _lastFailure = outcome.Failure;
        if (outcome.End != AttemptEnd.Completed)
        {
            span?.SetStatus(ActivityStatusCode.Error, outcome.Reason ?? outcome.Failure?.Code);
        }

        _attempts.Add(new AttemptRecord(number, backend.Name, recovery, outcome.End == AttemptEnd.Broken ? outcome.Reason : null, Next: null, outcome.End == AttemptEnd.Completed));
        if (recovery is not null)
        {
            Log.UpstreamRecoveryEnded(forwarder.Logger, RequestId, recovery, outcome.End == AttemptEnd.Completed ? "recovered" : "failed");
        }

        if (outcome.End == AttemptEnd.Completed)
        {
            // An earlier attempt's failure is not how this request ended.
            _ending = null;
        }

        return outcome;
    }

    /// <summary>Moves, or swaps in the recovery request, as decided; the recovery's kind when this attempt is one.</summary>
    private async ValueTask<string?> ActOnDecisionAsync(RetryAction action)
    {
        if (action == RetryAction.Stop)
        {
            return null;
        }

        var last = _attempts[^1];
        _completionBody = null;
        if (action == RetryAction.Continue)
        {
            return await ContinueAsync(last.Number);
        }

        channel.Restart();
        switch (action)
        {
            case RetryAction.AnotherBackend:
                var from = Backends.Current.Name;
                if (!_backendReported)
                {
                    Backends.Failed();
                }

                if (!await Backends.MoveAsync(Watchdog.Token))
                {
                    _cannotMove = true;
                    return null;
                }

                Log.UpstreamMovedToAnotherBackend(forwarder.Logger, RequestId, from, Backends.Current.Name, last.Failure ?? "failure");
                return null;
            case RetryAction.RawReparse or RetryAction.HistoryRepair:
                var kind = action == RetryAction.RawReparse ? RawReparse : HistoryRepair;
                _rawReparseTried |= action == RetryAction.RawReparse;
                _historyRepairTried |= action == RetryAction.HistoryRepair;
                _body = _recoveredBody!;
                _recovery = _recovery is null ? kind : _recovery + "+" + kind;
                Log.UpstreamRecoveryStarted(forwarder.Logger, RequestId, last.Number, action == RetryAction.RawReparse ? "parse failure" : "template error", _lastFailure?.Code ?? "upstream_error", kind);
                return kind;
            default:
                Log.UpstreamAttemptRetried(forwarder.Logger, RequestId, last.Number, _lastFailure?.Code ?? last.Failure ?? "upstream_error");
                return null;
        }
    }

    /// <summary>
    /// Step 2a for a turn llama-server's parser broke while the client read its reasoning: the
    /// prompt its template renders, the analysis so far, and <c>/completion</c> goes on from
    /// there on the same backend; where the template cannot be had (an older build), the turn
    /// starts over as a raw re-request after a visible break in the reasoning.
    /// </summary>
    private async ValueTask<string> ContinueAsync(int failedAttempt)
    {
        _continuationTried = true;
        var translator = channel.Translator;
        var prompt = await LlamaServerTemplate.RenderAsync(forwarder.Upstream, Backends.Current.ApiBase, _body, Watchdog.Token);
        string kind;
        if (prompt is not null)
        {
            _completionBody = RecoveryRequests.Continuation(_body, prompt, translator.ReasoningCapture!.ToString());
            translator.ContinueFromCompletion();
            kind = Continuation;
        }
        else
        {
            _rawReparseTried = true;
            _body = RecoveryRequests.WithRawOutput(_body);
            translator.StartOverAfterBreak();
            kind = StartOver;
        }

        _recovery = _recovery is null ? kind : _recovery + "+" + kind;
        Log.UpstreamRecoveryStarted(forwarder.Logger, RequestId, failedAttempt, "parse failure after reasoning was shown", _lastFailure?.Code ?? "upstream_error", kind);
        return kind;
    }

    /// <summary>Steps 2b and 2c for one backend.</summary>
    private async ValueTask<AttemptOutcome> SendAndRelayAsync(Backend backend)
    {
        _backendReported = false;
        HttpResponseMessage response;
        var probeFailed = backend.ProbeFailed;
        try
        {
            // Step 2b: the send: UpstreamClient → the backend's breaker → first-byte timeout; given
            // up early when the backend fails its health probe meanwhile
            using var send = CancellationTokenSource.CreateLinkedTokenSource(Watchdog.Token, probeFailed);
            request.Recorder?.UpstreamRequest(_attempts.Count + 1, _completionBody is null ? "chat/completions" : "completion", _completionBody ?? _body);
            response = _completionBody is { } completion
                ? await forwarder.Upstream.SendAsync(HttpMethod.Post, new Uri(backend.ApiBase, "../completion").ToString(), completion, "application/json", "text/event-stream", request.ClientAuthorization, send.Token)
                : await forwarder.Upstream.SendChatAsync(backend.ApiBase, _body, request.ClientAuthorization, send.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or HttpRequestException or BrokenCircuitException or TimeoutRejectedException)
        {
            var end = Classify(exception, afterHeaders: false, outputStarted: false);
            if (end != AttemptEnd.Broken)
            {
                return new AttemptOutcome(end);
            }

            // Unreachable, timed out or its breaker open: that backend is down for now (set aside
            // already when its health probe failed).
            var setAside = probeFailed.IsCancellationRequested;
            if (!setAside)
            {
                Backends.Failed();
            }

            _backendReported = true;
            var (_, circuitOpen, reason) = UpstreamResilience.Classify(Outcome.FromException<HttpResponseMessage>(exception));
            return new AttemptOutcome(AttemptEnd.Broken, setAside ? UpstreamFailure.Unreachable(": its health probe failed while the request waited for a first byte.") : SendFailure(exception))
            {
                CircuitOpen = circuitOpen,
                Reason = setAside ? RetryReasons.HealthProbeFailed : reason,
            };
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                _ending = new CompletionEnding(null, (int)response.StatusCode, WatchdogKind.None, ClientGone: false, AfterHeaders: false, OutputStarted: false);
                return new AttemptOutcome(AttemptEnd.Broken, await UpstreamFailure.FromResponseAsync(response, forwarder.Upstream.SendsOwnKey, forwarder.Time.GetUtcNow(), Watchdog.Token))
                {
                    RetryAfter = response.Headers.RetryAfter?.Delta,
                    Reason = RetryReasons.Status((int)response.StatusCode),
                };
            }

            Backends.Succeeded();
            Watchdog.OnUpstreamActivity();

            // Step 2c: the relay
            var outcome = await RelayAsync(response);
            if (outcome.Failure?.Code == UpstreamFailure.NotACompletionCode)
            {
                // A 200 that was no completion: the backend is not serving, whatever its status said.
                Backends.Failed();
                _backendReported = true;
            }

            return outcome;
        }
    }

    /// <summary>Names of decisions on the attempt records and in <c>harmony_proxy_upstream_retries_total</c>.</summary>
    private static string NextName(RetryAction action) => action switch
    {
        RetryAction.Resend => RetryReasons.Resend,
        RetryAction.AnotherBackend => RetryReasons.AnotherBackend,
        RetryAction.RawReparse => RawReparse,
        RetryAction.Continue => Continuation,
        _ => HistoryRepair,
    };
}
