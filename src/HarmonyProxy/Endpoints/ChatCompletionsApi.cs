using System.Diagnostics;
using System.Net.ServerSentEvents;
using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Upstream;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// <c>POST /v1/chat/completions</c>: the whole request path.
/// </summary>
/// <remarks>
/// (1) read and validate the body → 400/413; (2) resolve output options (config, headers);
/// (3) prepare the request for llama-server (stops, history, upstream streaming);
/// (4) send it → upstream errors before any output are real HTTP errors (502/503/504);
/// (5) relay: every upstream SSE event goes through <see cref="CompletionTranslator"/> and is
/// flushed to the client at once (streaming) or collected into one JSON body;
/// (6) a break after output started ends the stream with one OpenAI error event and [DONE].
/// </remarks>
internal static class ChatCompletionsApi
{
    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", HandleAsync);
        app.MapPost("/chat/completions", HandleAsync);
        return app;
    }

    public static async Task HandleAsync(HttpContext context, UpstreamClient upstream, IOptionsMonitor<HarmonyProxyOptions> optionsMonitor, ILoggerFactory loggers)
    {
        var options = optionsMonitor.CurrentValue;
        var logger = loggers.CreateLogger("HarmonyProxy.Completions");
        var requestId = context.TraceIdentifier;
        var started = Stopwatch.GetTimestamp();
        var cancellation = context.RequestAborted;

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

        // :: Step 3-4: upstream
        HttpResponseMessage response;
        try
        {
            response = await upstream.SendChatAsync(prepared.UpstreamBody, context.Request.Headers.Authorization, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Log.ClientDisconnected(logger, requestId);
            return;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            var failure = exception is OperationCanceledException ? UpstreamFailure.TimedOut("connect") : UpstreamFailure.Unreachable(exception);
            await FailBeforeOutputAsync(context, logger, requestId, failure);
            return;
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                await FailBeforeOutputAsync(context, logger, requestId, await UpstreamFailure.FromResponseAsync(response, cancellation));
                return;
            }

            // :: Step 5-6: relay
            var status = 200;
            CompletionTranslator translator;
            if (prepared.ClientStreams)
            {
                translator = await StreamAsync(context, response, output, prepared, options, logger, requestId);
            }
            else
            {
                (translator, status) = await RespondAsync(context, response, output, options, logger, requestId);
            }

            var outcome = cancellation.IsCancellationRequested ? "client_cancelled"
                : translator.UpstreamError is not null || translator.FinishReason is null ? "upstream_error"
                : "ok";
            if (logger.IsEnabled(LogLevel.Information))
            {
                Log.CompletionFinished(logger, requestId, prepared.Model, prepared.ClientStreams, status, outcome, translator.FinishReason,
                    translator.ToolCallCount, translator.FallbackUsed, translator.ParseFlags.ToString(), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    private static async Task<CompletionTranslator> StreamAsync(
        HttpContext context, HttpResponseMessage response, OutputOptions output, PreparedRequest prepared, HarmonyProxyOptions options, ILogger logger, string requestId)
    {
        var httpResponse = context.Response;
        httpResponse.StatusCode = 200;
        httpResponse.ContentType = "text/event-stream";
        httpResponse.Headers.CacheControl = "no-cache";
        httpResponse.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var writer = httpResponse.BodyWriter;
        using var chunks = new SseChunkWriter(writer);
        var translator = new CompletionTranslator(chunks, output, prepared.ClientWantsUsage, options.Parser.MaxHeaderChars);
        try
        {
            await RelayAsync(response, translator, async () => await writer.FlushAsync(context.RequestAborted), context.RequestAborted);
            if (translator.UpstreamError is not null)
            {
                Log.UpstreamStreamBroken(logger, requestId, translator.UpstreamError.Code ?? translator.UpstreamError.Type);
            }

            await writer.FlushAsync(context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientDisconnected(logger, requestId);
        }

        return translator;
    }

    private static async Task<(CompletionTranslator Translator, int Status)> RespondAsync(
        HttpContext context, HttpResponseMessage response, OutputOptions output, HarmonyProxyOptions options, ILogger logger, string requestId)
    {
        var accumulator = new CompletionAccumulator();
        var translator = new CompletionTranslator(accumulator, output, passUsage: true, options.Parser.MaxHeaderChars);
        try
        {
            await RelayAsync(response, translator, static () => Task.CompletedTask, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientDisconnected(logger, requestId);
            return (translator, 499);
        }

        if (accumulator.Error is { } error)
        {
            var failure = new UpstreamFailure(502, $"The upstream llama-server failed during generation: {error.Message}", OpenAiError.Upstream, error.Code ?? "upstream_error");
            await FailBeforeOutputAsync(context, logger, requestId, failure);
            return (translator, failure.Status);
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(accumulator.ToJson(), context.RequestAborted);
        return (translator, 200);
    }

    /// <summary>
    /// Feeds every upstream event to the translator and ends it exactly once: a finish on
    /// [DONE] or a finish_reason, an error when the stream broke or reported one.
    /// </summary>
    private static async Task RelayAsync(HttpResponseMessage response, CompletionTranslator translator, Func<Task> afterEvent, CancellationToken cancellationToken)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        try
        {
            if (mediaType is not null && !mediaType.Contains("event-stream", StringComparison.OrdinalIgnoreCase))
            {
                // An upstream that ignored stream:true answered with one JSON completion.
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken);
                if (translator.ProcessEvent(buffer.ToArray()) == UpstreamEventKind.Error)
                {
                    FailFromUpstream(translator);
                    return;
                }

                translator.Complete();
                return;
            }

            var events = SseParser.Create(stream, (_, data) => translator.ProcessEvent(data));
            await foreach (var item in events.EnumerateAsync(cancellationToken))
            {
                if (item.Data == UpstreamEventKind.Done)
                {
                    translator.Complete();
                    return;
                }

                if (item.Data == UpstreamEventKind.Error)
                {
                    FailFromUpstream(translator);
                    await afterEvent();
                    return;
                }

                await afterEvent();
            }
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            translator.Fail($"The connection to the upstream llama-server broke: {exception.Message}", OpenAiError.Upstream, "upstream_connection_lost");
            return;
        }

        // The body ended without [DONE]: fine if upstream finished (older builds), an error otherwise.
        if (translator.UpstreamFinishReason is not null)
        {
            translator.Complete();
        }
        else
        {
            translator.Fail("The upstream llama-server closed the stream before finishing.", OpenAiError.Upstream, "upstream_stream_ended");
        }
    }

    private static void FailFromUpstream(CompletionTranslator translator)
    {
        var error = translator.UpstreamError!;
        translator.Fail($"The upstream llama-server failed during generation: {error.Message}", error.Type, error.Code);
    }

    private static async Task FailBeforeOutputAsync(HttpContext context, ILogger logger, string requestId, UpstreamFailure failure)
    {
        Log.UpstreamFailed(logger, requestId, failure.Status, failure.Code);
        await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code, retryAfter: failure.RetryAfter);
    }

    private static RequestPreparationOptions PreparationOptions(HarmonyProxyOptions options) => new()
    {
        HarmonyStopsEnabled = options.Requests.HarmonyStopsEnabled,
        ExtraStops = options.Requests.ExtraStopSequences,
        CleanHistory = options.Requests.CleanHistory,
    };
}
