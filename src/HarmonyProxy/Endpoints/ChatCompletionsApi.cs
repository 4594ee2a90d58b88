using System.Diagnostics;
using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
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
        IOptionsMonitor<HarmonyProxyOptions> optionsMonitor,
        ILoggerFactory loggers)
    {
        var options = optionsMonitor.CurrentValue;
        var logger = loggers.CreateLogger("HarmonyProxy.Completions");
        var requestId = context.TraceIdentifier;
        var started = Stopwatch.GetTimestamp();

        // :: Step 1: body
        var body = await RequestBody.ReadAsync(context, options.Requests.MaxRequestBodyBytes);
        if (body is null)
        {
            Log.RequestRejected(logger, requestId, 413, "body too large");
            await ErrorResults.WriteAsync(context, 413, $"The request body is larger than the limit of {options.Requests.MaxRequestBodyBytes} bytes.", OpenAiError.InvalidRequest, "request_too_large");
            return;
        }

        var json = RequestPreparer.ParseBody(body, out var problem);
        var prepared = problem is null ? RequestPreparer.Prepare(json, PreparationOptions(options), out problem) : null;
        if (problem is not null || prepared is null)
        {
            Log.RequestRejected(logger, requestId, problem!.Status, problem.Code);
            await ErrorResults.WriteAsync(context, problem.Status, problem.Message, OpenAiError.InvalidRequest, problem.Code, problem.Param);
            return;
        }

        // :: Step 2: output options
        if (!OutputOptionsResolver.TryResolve(options.Output, context.Request.Headers, out var output, out var headerProblem))
        {
            Log.RequestRejected(logger, requestId, 400, "bad output header");
            await ErrorResults.WriteAsync(context, 400, headerProblem!, OpenAiError.InvalidRequest, "invalid_header");
            return;
        }

        // :: Step 4: a slot at llama-server
        using var lease = await gate.AcquireAsync(context.RequestAborted);
        if (lease is null)
        {
            Log.RequestRejected(logger, requestId, 429, "queue full");
            await ErrorResults.WriteAsync(context, 429, "Too many requests are waiting for the upstream llama-server; retry shortly.", "rate_limit_error", "queue_full", retryAfter: TimeSpan.FromSeconds(1));
            return;
        }

        // :: Step 5-6: attempts
        var run = new CompletionRun(context, upstream, time, options, output, prepared, logger);
        await run.ExecuteAsync();

        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.CompletionFinished(logger, requestId, prepared.Model, prepared.ClientStreams, context.Response.StatusCode, run.Outcome, run.FinishReason,
                run.ToolCalls, run.FallbackUsed, run.ParseFlags, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static RequestPreparationOptions PreparationOptions(HarmonyProxyOptions options) => new()
    {
        HarmonyStopsEnabled = options.Requests.HarmonyStopsEnabled,
        ExtraStops = options.Requests.ExtraStopSequences,
        CleanHistory = options.Requests.CleanHistory,
    };
}
