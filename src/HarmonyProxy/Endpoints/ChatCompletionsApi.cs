using System.Diagnostics;
using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Harmony;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// <c>POST /v1/chat/completions</c>: the whole request path.
/// </summary>
/// <remarks>
/// (1) read and validate the body → 400/413; (2) resolve output options (config, headers);
/// (3) prepare the request for llama-server (stops, history, upstream streaming);
/// (4) take a slot (back-pressure → 429); (5) run attempts (<see cref="CompletionRun"/>):
/// send with retries, relay every upstream event through <see cref="CompletionTranslator"/>,
/// retry a broken attempt while nothing but the role delta reached the client; (6) end once:
/// a finish, a watchdog's <c>length</c> finish, an error event after output, or an HTTP error
/// before it.
/// </remarks>
internal static class ChatCompletionsApi
{
    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", HandleAsync);
        app.MapPost("/chat/completions", HandleAsync);
        return app;
    }

    public static async Task HandleAsync(
        HttpContext context,
        UpstreamClient upstream,
        UpstreamConcurrencyGate gate,
        TimeProvider time,
        ProxyMetrics metrics,
        UpstreamSetupReport setupReport,
        UpstreamBreakerState breaker,
        DrainState drain,
        IOptionsMonitor<HarmonyProxyOptions> optionsMonitor,
        ILogger<CompletionRun> logger)
    {
        // ILogger<T> is a DI singleton; ILoggerFactory.CreateLogger under Serilog builds a new
        // logger (and its property cache) on every call, which a stream then holds to its end.
        var options = optionsMonitor.CurrentValue;
        var requestId = context.TraceIdentifier;
        var started = Stopwatch.GetTimestamp();
        metrics.StreamsInFlight.Inc();
        using var open = drain.Enter();
        try
        {
            await HandleCoreAsync(context, upstream, gate, time, metrics, setupReport, breaker, drain, options, logger, requestId, started);
        }
        finally
        {
            metrics.StreamsInFlight.Dec();
        }
    }

    private static async Task HandleCoreAsync(
        HttpContext context,
        UpstreamClient upstream,
        UpstreamConcurrencyGate gate,
        TimeProvider time,
        ProxyMetrics metrics,
        UpstreamSetupReport setupReport,
        UpstreamBreakerState breaker,
        DrainState drain,
        HarmonyProxyOptions options,
        ILogger logger,
        string requestId,
        long started)
    {

        // Step 2: the body, read with its size limit and prepared for llama-server
        var (prepared, problem) = await ReadRequestAsync(context, options);
        if (prepared is null)
        {
            CountRequest(metrics, "unknown", "client_error", started);
            Log.RequestRejected(logger, requestId, problem!.Status, problem.Code);
            await ErrorResults.WriteAsync(context, problem.Status, problem.Message, OpenAiError.InvalidRequest, problem.Code, problem.Param);
            return;
        }

        // Step 3: the output options (configuration, per-request headers)
        if (!OutputOptionsResolver.TryResolve(options.Output, context.Request.Headers, out var output, out var headerProblem))
        {
            CountRequest(metrics, Stream(prepared), "client_error", started);
            Log.RequestRejected(logger, requestId, 400, "bad output header");
            await ErrorResults.WriteAsync(context, 400, headerProblem!, OpenAiError.InvalidRequest, "invalid_header");
            return;
        }

        // Step 4: a slot at llama-server, or 429
        using var lease = await gate.AcquireAsync(context.RequestAborted);
        if (lease is null)
        {
            CountRequest(metrics, Stream(prepared), "rejected", started);
            Log.RequestRejected(logger, requestId, 429, "queue full");
            await ErrorResults.WriteAsync(context, 429, "Too many requests are waiting for the upstream llama-server; retry shortly.", "rate_limit_error", "queue_full", retryAfter: TimeSpan.FromSeconds(1));
            return;
        }

        // Steps 5-9: the attempts, the relay and the one ending (CompletionRun)
        var run = new CompletionRun(context, upstream, time, options, output with { Tools = prepared.Tools }, prepared, metrics, breaker, logger)
        {
            ShutdownSignal = drain.StreamsMustEnd,
        };
        await run.ExecuteAsync();
        // Step 10: metrics, the summary line, telemetry, once per request
        Record(metrics, run, Stream(prepared), started);
        context.Features.Set(new CompletionSummaryFeature(run.Outcome, run.Attempts, run.Recovery));
        RecordTelemetry(context, run, prepared);
        if (run.Result is { Completed: true } completed)
        {
            setupReport.ObserveFirstResponse(completed.UpstreamFlavour);
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            var result = run.Result;
            Log.CompletionFinished(logger, requestId, prepared.Model, prepared.ClientStreams, context.Response.StatusCode, run.Outcome, run.Attempts, run.Recovery,
                run.TimeToFirstToken is { } ttft ? Math.Round(ttft * 1000) : null, Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds),
                result?.ContentChunks ?? 0, result?.ReasoningChunks ?? 0, result?.ToolCallCount ?? 0, result?.FallbackUsed ?? false,
                result?.FinishReason, (result?.ParseFlags ?? HarmonyParseFlags.None).ToString());
        }
    }

    /// <summary>
    /// Reads, parses and prepares the body in a method of its own: the raw bytes and the parsed
    /// tree then die here instead of living in the caller's state machine for the whole stream.
    /// </summary>
    private static async Task<(PreparedRequest? Prepared, RequestProblem? Problem)> ReadRequestAsync(HttpContext context, HarmonyProxyOptions options)
    {
        var body = await RequestBody.ReadAsync(context, options.Requests.MaxRequestBodyBytes);
        if (body is null)
        {
            return (null, new RequestProblem(413, $"The request body is larger than the limit of {options.Requests.MaxRequestBodyBytes} bytes.", null, "request_too_large"));
        }

        var json = RequestPreparer.ParseBody(body, out var problem);
        var prepared = problem is null ? RequestPreparer.Prepare(json, PreparationOptions(options), out problem) : null;
        return problem is null ? (prepared, null) : (null, problem);
    }

    /// <summary>Every per-request metric, once, after the response ended (never in the token loop).</summary>
    private static void Record(ProxyMetrics metrics, CompletionRun run, string stream, long started)
    {
        CountRequest(metrics, stream, run.Outcome, started);
        if (run.TimeToFirstToken is { } ttft)
        {
            metrics.TimeToFirstToken.WithLabels(stream).Observe(ttft);
        }

        if (run.Result is not { } result)
        {
            return;
        }

        metrics.ParserEvents.WithLabels("final_chunk").Inc(result.ContentChunks);
        metrics.ParserEvents.WithLabels("reasoning_chunk").Inc(result.ReasoningChunks);
        metrics.ParserEvents.WithLabels("tool_call").Inc(result.ToolCallCount);
        metrics.ToolCalls.Inc(result.ToolCallCount - result.DroppedToolCalls);
        metrics.ToolCallsDropped.Inc(result.DroppedToolCalls);
        if (result.FallbackUsed)
        {
            metrics.ParserEvents.WithLabels("fallback").Inc();
        }

        if (result.ParseFlags.HasFlag(HarmonyParseFlags.Recovered))
        {
            metrics.ParserEvents.WithLabels("malformed").Inc();
        }

        if (result.ParseFlags.HasFlag(HarmonyParseFlags.StrippedForm))
        {
            metrics.ParserEvents.WithLabels("stripped_form").Inc();
        }

        if (result.ParseFlags.HasFlag(HarmonyParseFlags.TagsSeen))
        {
            metrics.ParserEvents.WithLabels("leaked_tags_cleaned").Inc();
        }

        if (UsageTokens.TryRead(result.Usage.Span, out var prompt, out var completion))
        {
            metrics.Tokens.WithLabels("prompt").Inc(prompt);
            metrics.Tokens.WithLabels("completion").Inc(completion);
        }
    }

    /// <summary>GenAI attributes on the request's span and the GenAI histograms, when OpenTelemetry listens.</summary>
    private static void RecordTelemetry(HttpContext context, CompletionRun run, PreparedRequest prepared)
    {
        if (!ProxyTelemetry.Tracing)
        {
            return;
        }

        long input = 0, output = 0;
        var hasUsage = run.Result is { } result && UsageTokens.TryRead(result.Usage.Span, out input, out output);
        if (run.TimeToFirstToken is { } ttft)
        {
            ProxyTelemetry.TimeToFirstToken.Record(ttft, new KeyValuePair<string, object?>("gen_ai.operation.name", "chat"));
        }

        if (hasUsage)
        {
            ProxyTelemetry.TokenUsage.Record(input, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
            ProxyTelemetry.TokenUsage.Record(output, new KeyValuePair<string, object?>("gen_ai.token.type", "output"));
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpActivityFeature>()?.Activity is not { IsAllDataRequested: true } span)
        {
            return;
        }

        span.SetTag("gen_ai.operation.name", "chat");
        span.SetTag("gen_ai.request.model", prepared.Model);
        span.SetTag("harmony_proxy.request_id", context.TraceIdentifier);
        span.SetTag("harmony_proxy.outcome", run.Outcome);
        span.SetTag("harmony_proxy.upstream_attempts", run.Attempts);
        if (run.Recovery is not null)
        {
            span.SetTag("harmony_proxy.recovery", run.Recovery);
        }

        if (run.Result?.FinishReason is { } finish)
        {
            span.SetTag("gen_ai.response.finish_reasons", new[] { finish });
        }

        if (hasUsage)
        {
            span.SetTag("gen_ai.usage.input_tokens", input);
            span.SetTag("gen_ai.usage.output_tokens", output);
        }

        if (run.TimeToFirstToken is { } firstToken)
        {
            span.SetTag("gen_ai.server.time_to_first_token", firstToken);
        }
    }

    private static void CountRequest(ProxyMetrics metrics, string stream, string outcome, long started)
    {
        metrics.Requests.WithLabels("chat_completions", stream, outcome).Inc();
        metrics.RequestDuration.WithLabels("chat_completions", stream).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static string Stream(PreparedRequest? prepared) => prepared is null ? "unknown" : prepared.ClientStreams ? "true" : "false";

    private static RequestPreparationOptions PreparationOptions(HarmonyProxyOptions options) => new()
    {
        HarmonyStopsEnabled = options.Requests.HarmonyStopsEnabled,
        ExtraStops = options.Requests.ExtraStopSequences,
        CleanHistory = options.Requests.CleanHistory,
        DefaultReasoningEffort = string.IsNullOrEmpty(options.Requests.DefaultReasoningEffort) ? null : options.Requests.DefaultReasoningEffort,
    };
}
