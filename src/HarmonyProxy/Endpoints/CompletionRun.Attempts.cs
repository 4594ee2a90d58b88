using System.Diagnostics;
using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Requests;
using HarmonyProxy.Security;
using HarmonyProxy.Upstream;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Endpoints;

/// <summary>The attempts: send, relay, and what a broken attempt leads to (retry within the budget, recovery, or the end).</summary>
internal sealed partial class CompletionRun
{
    /// <summary>
    /// Sends and relays until one attempt completes. While the response can restart (nothing was
    /// shown yet), a broken attempt is asked again: a transient break while the retry
    /// budget lasts (shared with the send pipeline's own retries, <see cref="UpstreamRetryBudget"/>:
    /// MaxRetries bounds them together); a failure of llama-server's parser or template once each,
    /// in the way that avoids it (<see cref="TryStartRecovery"/>); a deterministic error never.
    /// </summary>
    private async Task<(AttemptEnd End, UpstreamFailure? Failure)> RunAttemptsAsync(ClientResponse client, StreamWatchdog watchdog)
    {
        var body = prepared.UpstreamBody;
        while (true)
        {
            _attempt++;
            watchdog.PauseIdle();
            using var span = ProxyTelemetry.StartAttempt(_attempt, _pendingRecovery);
            HttpResponseMessage response;
            var probeFailed = Backends.Current.ProbeFailed;
            try
            {
                // Step 6: the send: UpstreamClient → retry (shared budget) → breaker → first-byte
                // timeout; given up early when the backend fails its health probe meanwhile
                using var send = CancellationTokenSource.CreateLinkedTokenSource(watchdog.Token, probeFailed);
                response = await upstream.SendChatAsync(Backends.Current.ApiBase, body, ClientCredentials.ForwardedAuthorization(context), _budget, send.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or HttpRequestException or BrokenCircuitException or TimeoutRejectedException)
            {
                var end = Classify(exception, watchdog, afterHeaders: false, outputStarted: false);
                if (exception is TimeoutRejectedException)
                {
                    metrics.WatchdogTerminations.WithLabels("first_byte").Inc();
                }

                EndRecovery(succeeded: false);
                span?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
                var setAside = end == AttemptEnd.Broken && probeFailed.IsCancellationRequested;
                if (end == AttemptEnd.Broken)
                {
                    // Unreachable, timed out or its breaker open: that backend is down for now
                    // (set aside already when its health probe failed).
                    if (!setAside)
                    {
                        Backends.Failed();
                    }

                    if (client.CanRestart && await TryMoveAsync(setAside ? "health probe failed" : exception.GetType().Name, watchdog))
                    {
                        client.Restart();
                        continue;
                    }
                }

                return end != AttemptEnd.Broken ? (end, null)
                    : setAside ? (end, UpstreamFailure.Unreachable(": its health probe failed while the request waited for a first byte."))
                    : (end, SendFailure(exception));
            }

            using (response)
            {
                UpstreamFailure failure;
                var relayed = response.IsSuccessStatusCode;
                var backendDown = (int)response.StatusCode is 502 or 503 or 504;
                var backendReported = false;
                if (relayed)
                {
                    Backends.Succeeded();
                    watchdog.OnUpstreamActivity();
                    (var end, var broken) = await RelayAsync(response, client, watchdog);
                    if (end == AttemptEnd.Completed)
                    {
                        // An earlier attempt's failure is not how this request ended.
                        _ending = null;
                    }

                    if (end != AttemptEnd.Broken)
                    {
                        EndRecovery(succeeded: end == AttemptEnd.Completed);
                        return (end, null);
                    }

                    failure = broken!;
                    if (failure.Code == UpstreamFailure.NotACompletionCode)
                    {
                        // A 200 that was no completion: the backend is not serving, whatever its status said.
                        Backends.Failed();
                        backendReported = true;
                    }
                }
                else
                {
                    _ending = new CompletionEnding(null, (int)response.StatusCode, WatchdogKind.None, ClientGone: false, AfterHeaders: false, OutputStarted: false);
                    failure = await UpstreamFailure.FromResponseAsync(response, upstream.SendsOwnKey, watchdog.Token);
                }

                EndRecovery(succeeded: false);
                span?.SetStatus(ActivityStatusCode.Error, failure.Code);
                if (!client.CanRestart)
                {
                    return (AttemptEnd.Broken, failure);
                }

                // Step 8: a broken attempt before anything visible: recover, retry, or fail
                if (TryStartRecovery(failure, ref body))
                {
                    client.Restart();
                    continue;
                }

                // Another backend, if there is one, for a backend that is down or broke before output.
                if ((backendDown || (relayed && failure.Kind == UpstreamErrorKind.Transient)) && Backends.CanMove)
                {
                    if (!backendReported)
                    {
                        Backends.Failed();
                    }

                    if (await TryMoveAsync(failure.Code, watchdog))
                    {
                        client.Restart();
                        continue;
                    }

                    return (AttemptEnd.Broken, failure);
                }

                // An error status was already retried by the send's pipeline if it was transient.
                if (relayed && failure.Kind == UpstreamErrorKind.Transient && _budget.TryTake())
                {
                    metrics.UpstreamRetries.WithLabels("stream_broken_before_output").Inc();
                    Log.UpstreamAttemptRetried(logger, context.TraceIdentifier, _attempt, failure.Code);
                    client.Restart();
                    continue;
                }

                return (AttemptEnd.Broken, failure);
            }
        }
    }

    /// <summary>Moves the request to another backend while the retry budget lasts.</summary>
    private async ValueTask<bool> TryMoveAsync(string reason, StreamWatchdog watchdog)
    {
        var from = Backends.Current.Name;
        if (!Backends.CanMove || !_budget.TryTake() || !await Backends.MoveAsync(watchdog.Token))
        {
            return false;
        }

        metrics.UpstreamRetries.WithLabels("another_backend").Inc();
        Log.UpstreamMovedToAnotherBackend(logger, context.TraceIdentifier, from, Backends.Current.Name, reason);
        return true;
    }

    /// <summary>
    /// A failure llama-server's own gpt-oss handling caused can be avoided by asking differently:
    /// a parse failure by asking for raw Harmony (parsed here), a template's history complaint by
    /// repairing the history. Each is tried once per request, within the retry budget; the
    /// re-request replaces <paramref name="body"/> for any later attempt.
    /// </summary>
    private bool TryStartRecovery(UpstreamFailure failure, ref byte[] body)
    {
        string kind;
        byte[]? recovered;
        switch (failure.Kind)
        {
            case UpstreamErrorKind.ParseFailure when !_rawReparseTried:
                _rawReparseTried = true;
                kind = RawReparse;
                recovered = RecoveryRequests.WithRawOutput(body);
                break;
            case UpstreamErrorKind.TemplateHistory when !_historyRepairTried:
                _historyRepairTried = true;
                kind = HistoryRepairKind;
                recovered = RecoveryRequests.WithRepairedHistory(body, out _);
                break;
            default:
                return false;
        }

        // A recovery is a request to llama-server like any retry: it spends the same budget.
        if (recovered is null || !_budget.TryTake())
        {
            return false;
        }

        body = recovered;
        _pendingRecovery = kind;
        Recovery = Recovery is null ? kind : Recovery + "+" + kind;
        Log.UpstreamRecoveryStarted(logger, context.TraceIdentifier, _attempt, failure.Kind == UpstreamErrorKind.ParseFailure ? "parse failure" : "template error", failure.Code, kind);
        return true;
    }

    /// <summary>Counts a recovery once the attempt it started has ended.</summary>
    private void EndRecovery(bool succeeded)
    {
        if (_pendingRecovery is not { } kind)
        {
            return;
        }

        _pendingRecovery = null;
        var outcome = succeeded ? "recovered" : "failed";
        metrics.Recoveries.WithLabels(kind, outcome).Inc();
        Log.UpstreamRecoveryEnded(logger, context.TraceIdentifier, kind, outcome);
    }
}
