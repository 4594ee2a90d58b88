using System.Net;
using HarmonyProxy.Preparation;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Forwarding;
using HarmonyProxy.Security;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// llama-server's other routes, passed through so every tool can use one base URL (Continue
/// indexes with embeddings): the model list, <c>/v1/completions</c>, <c>/v1/embeddings</c>,
/// <c>/v1/rerank</c>, <c>/tokenize</c>, <c>/detokenize</c>, <c>/props</c> and <c>/health</c>.
/// The same key and header rules as completions: the upstream key (or the client's), only
/// <c>Content-Type</c> and <c>Accept</c> go up, only <c>Content-Type</c> comes back; the response
/// body is relayed as it arrives (a streamed <c>/v1/completions</c> stays a stream). Never
/// <c>/slots</c>: it shows other users' prompts.
/// </summary>
internal static class PassThroughApi
{
    /// <summary>Routes relative to llama-server's <c>/v1/</c> base (<c>..</c> climbs to its root).</summary>
    private static readonly (string Route, string Upstream)[] Posts =
    [
        ("/v1/completions", "completions"),
        ("/completions", "completions"),
        ("/v1/embeddings", "embeddings"),
        ("/embeddings", "embeddings"),
        ("/v1/rerank", "rerank"),
        ("/rerank", "../rerank"),
        ("/tokenize", "../tokenize"),
        ("/detokenize", "../detokenize"),
    ];

    public static IEndpointRouteBuilder MapPassThroughApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (HttpContext context, PassThrough upstream) => ModelsAsync(context, upstream));
        app.MapGet("/v1/models/{**id}", (HttpContext context, PassThrough upstream, string id) => ForwardAsync(context, upstream, HttpMethod.Get, "models/" + Uri.EscapeDataString(id)));
        app.MapGet("/models", (HttpContext context, PassThrough upstream) => ModelsAsync(context, upstream));
        app.MapGet("/props", (HttpContext context, PassThrough upstream) => ForwardAsync(context, upstream, HttpMethod.Get, "../props"));
        app.MapGet("/health", (HttpContext context, PassThrough upstream) => ForwardAsync(context, upstream, HttpMethod.Get, "../health"));
        foreach (var (route, upstreamPath) in Posts)
        {
            app.MapPost(route, (HttpContext context, PassThrough upstream) => ForwardAsync(context, upstream, HttpMethod.Post, upstreamPath));
        }

        return app;
    }

    /// <summary>True for the routes this room serves that need a client key when keys are in use (<c>/health</c> stays open, as llama-server's does).</summary>
    public static bool NeedsKey(PathString path) =>
        path.StartsWithSegments("/props") || Posts.Any(post => path.StartsWithSegments(post.Route));

    /// <summary>What a route passed through needs: llama-server, the one retry strategy, the reporter.</summary>
    internal sealed class PassThrough(UpstreamClient upstream, BackendPool pool, ForwarderRetry retry, CompletionReporter reporter, TimeProvider time)
    {
        public UpstreamClient Upstream => upstream;

        public BackendPool Pool => pool;

        public ForwarderRetry Retry => retry;

        public CompletionReporter Reporter => reporter;

        public TimeProvider Time => time;
    }

    /// <summary>
    /// The model list: with several models among the backends (several servers, a router), every
    /// one once with its status; else the first llama-server's own list, passed through.
    /// </summary>
    private static async Task ModelsAsync(HttpContext context, PassThrough passThrough)
    {
        if (!passThrough.Pool.RoutesByModel)
        {
            await ForwardAsync(context, passThrough, HttpMethod.Get, "models");
            return;
        }

        var started = passThrough.Time.GetTimestamp();
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(ModelList.Write(passThrough.Pool.ServedModels(), passThrough.Time.GetUtcNow().ToUnixTimeSeconds()), context.RequestAborted);
        Report(context, passThrough, CompletionOutcome.Ok, started);
    }

    private static async Task ForwardAsync(HttpContext context, PassThrough passThrough, HttpMethod method, string path)
    {
        var started = passThrough.Time.GetTimestamp();
        var outcome = await RelayAsync(context, passThrough, method, method == HttpMethod.Get ? path + Query(context, passThrough.Pool.Primary) : path);
        Report(context, passThrough, outcome, started);
    }

    /// <summary>
    /// A GET's query string goes up; a router (several models behind one llama-server) answers
    /// <c>/props</c> for one model, so one is named when the client named none: the first loaded.
    /// </summary>
    private static string Query(HttpContext context, Backend primary)
    {
        var query = context.Request.QueryString;
        if (primary.IsRouter && !context.Request.Query.ContainsKey("model") && primary.Models.Count > 0)
        {
            var model = primary.Models.FirstOrDefault(entry => entry.State == LlamaServerModels.Loaded) ?? primary.Models[0];
            query = query.Add("model", model.Id);
        }

        return query.Value ?? string.Empty;
    }

    private static void Report(HttpContext context, PassThrough passThrough, CompletionOutcome outcome, long started) =>
        passThrough.Reporter.Report(context, new CompletionResult
        {
            RequestId = context.TraceIdentifier,
            Endpoint = "pass_through",
            Outcome = outcome,
            Status = context.Response.StatusCode,
            DurationSeconds = passThrough.Time.GetElapsedTime(started).TotalSeconds,
        });

    private static async Task<CompletionOutcome> RelayAsync(HttpContext context, PassThrough passThrough, HttpMethod method, string path)
    {
        var upstream = passThrough.Upstream;
        byte[]? body = null;
        if (method == HttpMethod.Post)
        {
            // Buffered (bounded) so a transient failure can be retried with the same bytes.
            var limit = context.RequestServices.GetRequiredService<IOptions<RequestOptions>>().Value.MaxRequestBodyBytes;
            body = await RequestBody.ReadAsync(context, limit);
            if (body is null)
            {
                await ErrorResults.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {limit} bytes.", "invalid_request_error", "request_too_large");
                return CompletionOutcome.ClientError;
            }
        }

        HttpResponseMessage response;
        try
        {
            var contentType = context.Request.ContentType;
            var accept = context.Request.Headers.Accept.ToString();
            var authorization = ClientCredentials.ForwardedAuthorization(context);
            response = await passThrough.Retry.SendPassThroughAsync(
                token => upstream.SendAsync(method, path, body, contentType, accept, authorization, token), context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return CompletionOutcome.ClientAborted;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
        {
            var failure = UpstreamFailure.Unreachable(".");
            await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code);
            return CompletionOutcome.UpstreamUnreachable;
        }

        using (response)
        {
            if ((int)response.StatusCode >= 500 || (upstream.SendsOwnKey && response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden))
            {
                var failure = await UpstreamFailure.FromResponseAsync(response, upstream.SendsOwnKey, passThrough.Time.GetUtcNow(), context.RequestAborted);
                await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code, failure.Param, failure.RetryAfter);
                return CompletionOutcome.UpstreamStatus;
            }

            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
            try
            {
                await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or HttpRequestException)
            {
                // The client left, or llama-server broke mid-body: headers are out, nothing to add.
                context.Abort();
                return context.RequestAborted.IsCancellationRequested ? CompletionOutcome.ClientAborted : CompletionOutcome.BrokeAfterOutput;
            }
        }

        return CompletionOutcome.Ok;
    }
}
