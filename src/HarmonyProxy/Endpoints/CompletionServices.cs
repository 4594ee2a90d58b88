using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Requests;
using HarmonyProxy.Upstream;
using HarmonyProxy.Memory;
using HarmonyProxy.Security;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// The part of the request path every completion API shares, from the slot to the record:
/// (4) take a slot (back-pressure → 429); (5) run attempts (<see cref="CompletionRun"/>): send
/// with retries, relay every upstream event through <see cref="CompletionTranslator"/> into the
/// API's <see cref="ICompletionWire"/>, retry a broken attempt while nothing visible reached the
/// client; (6) end once; then metrics, the summary line and telemetry, once per request.
/// </summary>
internal sealed partial class CompletionServices(
    UpstreamClient upstream,
    BackendPool pool,
    TimeProvider time,
    ProxyMetrics metrics,
    UpstreamSetupReport setupReport,
    UpstreamBreakerState breaker,
    DrainState drain,
    ReasoningMemory memory,
    IOptionsMonitor<HarmonyProxyOptions> options,
    ILogger<CompletionRun> logger)
{
    // ILogger<T> is a DI singleton; ILoggerFactory.CreateLogger under Serilog builds a new
    // logger (and its property cache) on every call, which a stream then holds to its end.
    public ILogger Logger { get; } = logger;

    public IOptionsMonitor<HarmonyProxyOptions> Options { get; } = options;

    public ProxyMetrics Metrics { get; } = metrics;

    public TimeProvider Time { get; } = time;

    /// <summary>Counts the request as in flight and holds the drain open until disposed.</summary>
    public IDisposable Enter()
    {
        Metrics.StreamsInFlight.Inc();
        return new InFlight(this, drain.Enter());
    }

    /// <summary>A request refused before llama-server was asked: counted, logged, answered in OpenAI's shape.</summary>
    public async Task RejectAsync(HttpContext context, string endpoint, string stream, RequestProblem problem, long started)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(problem);
        CountRequest(endpoint, stream, CompletionOutcome.ClientError, started);
        Log.RequestRejected(Logger, context.TraceIdentifier, problem.Status, problem.Code);
        await ErrorResults.WriteAsync(context, problem.Status, problem.Message, OpenAiError.InvalidRequest, problem.Code, problem.Param);
    }

    /// <summary>
    /// The end of step 2 for both APIs: reasoning in the history under its one name, reasoning the
    /// client did not send back restored from the memory, then the request prepared for llama-server
    /// (which applies Harmony's keep/drop rule); a history that ends in the same tool call again and
    /// again is reported.
    /// </summary>
    public async Task<(PreparedRequest? Prepared, RequestProblem? Problem)> PrepareAsync(HttpContext context, JsonNode? body, HarmonyProxyOptions current)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(current);
        try
        {
            if (body is JsonObject request && request["messages"] is JsonArray messages)
            {
                // Before the memory looks for missing reasoning and before the preparer's rule reads it.
                ReasoningDialects.Normalize(messages);
                await memory.RestoreAsync(ClientCredentials.Identity(context), messages, context.RequestAborted);
                ReportRepeatedToolCalls(context, messages, current);
            }
        }
        catch (Exception exception) when (RequestPreparer.IsBadText(exception))
        {
            return (null, RequestPreparer.BadText(exception));
        }

        var prepared = RequestPreparer.Prepare(body, PreparationOptions(current), out var problem);
        if (problem is not null)
        {
            return (null, problem);
        }

        Metrics.ReasoningMemory.WithLabels("kept").Inc(prepared.ReasoningKept);
        Metrics.ReasoningMemory.WithLabels("dropped").Inc(prepared.ReasoningDropped);
        return (prepared, null);
    }

    /// <summary>Maps another API's request to a chat request; null with the problem when it is refused.</summary>
    internal delegate T? RequestMapping<T>(out RequestProblem? problem);

    /// <summary>
    /// Step 2 for the APIs that map to a chat request (Responses, Messages): the mapping, guarded
    /// against text the JSON reader let through but cannot make a string of, then
    /// <see cref="PrepareAsync"/> on its chat request.
    /// </summary>
    public async Task<(T? Request, PreparedRequest? Prepared, RequestProblem? Problem)> MapAndPrepareAsync<T>(
        HttpContext context, HarmonyProxyOptions current, RequestMapping<T> map, Func<T, JsonObject> chatRequest)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(chatRequest);
        T? request;
        RequestProblem? problem;
        try
        {
            request = map(out problem);
        }
        catch (Exception exception) when (RequestPreparer.IsBadText(exception))
        {
            return (null, null, RequestPreparer.BadText(exception));
        }

        if (request is null)
        {
            return (null, null, problem);
        }

        var (prepared, preparationProblem) = await PrepareAsync(context, chatRequest(request), current);
        return preparationProblem is null ? (request, prepared, null) : (null, null, preparationProblem);
    }

    private void ReportRepeatedToolCalls(HttpContext context, JsonArray messages, HarmonyProxyOptions current)
    {
        var repeated = RepeatedToolCalls.AtEnd(messages);
        if (repeated >= current.LoopGuard.RepeatedToolCallThreshold)
        {
            Metrics.LoopGuard.WithLabels("repeated_tool_call").Inc();
            Log.RepeatedToolCall(Logger, context.TraceIdentifier, repeated);
        }
    }

    /// <summary>The client's profile from what it sent (counted by name), or null.</summary>
    public ClientProfile? DetectClient(HttpContext context, HarmonyProxyOptions current)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(current);
        var profile = ClientProfiles.Detect(current.Clients.Profiles, context.Request.Headers);
        Metrics.RequestsByClient.WithLabels(profile?.Name ?? ClientProfiles.Unknown).Inc();
        return profile;
    }

    /// <summary>Steps 4-10 for a prepared request; the run, or null when it was refused for want of a slot.</summary>
    public async Task<CompletionRun?> CompleteAsync(HttpContext context, string endpoint, PreparedRequest prepared, OutputOptions output, ICompletionWire wire, HarmonyProxyOptions current, long started)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(prepared);
        var requestId = context.TraceIdentifier;

        // Step 4: a slot on a backend (the conversation's, unless it is full while another is free), or 429
        var affinity = !current.Upstream.Affinity ? null
            : context.Request.Headers[ConversationAffinity.Header] is { Count: > 0 } header && header.ToString().Length > 0 ? "session:" + header
            : prepared.AffinityKey;
        using var lease = await pool.AcquireAsync(affinity, avoid: null, context.RequestAborted);
        if (lease is null)
        {
            CountRequest(endpoint, Stream(prepared), CompletionOutcome.Rejected, started);
            Log.RequestRejected(Logger, requestId, 429, "queue full");
            await ErrorResults.WriteAsync(context, 429, "Too many requests are waiting for the upstream llama-server; retry shortly.", "rate_limit_error", "queue_full", retryAfter: TimeSpan.FromSeconds(1));
            return null;
        }

        // Steps 5-9: the attempts, the relay and the one ending (CompletionRun)
        using var backends = new BackendChoice(pool, lease, affinity);
        var run = new CompletionRun(context, upstream, Time, current, output, prepared, wire, Metrics, breaker, Logger)
        {
            Backends = backends,
            ShutdownSignal = drain.StreamsMustEnd,
            CaptureReasoning = current.ReasoningMemory.Enabled,
        };
        await run.ExecuteAsync();
        if (run.Result is { Completed: true, NativeToolCallIds.Count: > 0, ReasoningCapture.Length: > 0 } toolTurn)
        {
            memory.Remember(ClientCredentials.Identity(context), toolTurn.NativeToolCallIds, toolTurn.ReasoningCapture.ToString());
        }

        // Step 10: metrics, the summary line, telemetry, once per request
        if (run.Result is { Completed: true } completed)
        {
            setupReport.ObserveFirstResponse(completed.UpstreamFlavour);
        }

        Report(context, Summarize(context, endpoint, prepared, run, started));
        return run;
    }

    public static string Stream(PreparedRequest? prepared) => prepared is null ? "unknown" : prepared.ClientStreams ? "true" : "false";

    public static RequestPreparationOptions PreparationOptions(HarmonyProxyOptions options) => new()
    {
        HarmonyStopsEnabled = options.Requests.HarmonyStopsEnabled,
        ExtraStops = options.Requests.ExtraStopSequences,
        CleanHistory = options.Requests.CleanHistory,
        DefaultReasoningEffort = string.IsNullOrEmpty(options.Requests.DefaultReasoningEffort) ? null : options.Requests.DefaultReasoningEffort,
        Affinity = options.Upstream.SeveralBackends,
    };

    private sealed class InFlight(CompletionServices services, IDisposable drainHold) : IDisposable
    {
        public void Dispose()
        {
            drainHold.Dispose();
            services.Metrics.StreamsInFlight.Dec();
        }
    }
}
