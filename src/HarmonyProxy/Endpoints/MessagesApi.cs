using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Memory;
using HarmonyProxy.Preparation;
using HarmonyProxy.Preparation.Messages;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Anthropic;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// <c>POST /v1/messages</c>: the Anthropic Messages API (Claude Code, the Anthropic SDKs). A
/// request is mapped to one chat request (<see cref="MessagesRequestMapper"/>) and then takes the
/// chat completions path (<see cref="Forwarding.CompletionForwarder"/>): the same preparation, reasoning
/// memory, attempts, recoveries, watchdogs and records; only the client's shape differs
/// (<see cref="MessagesWire"/>), errors included (<see cref="AnthropicError"/>).
/// </summary>
internal static class MessagesApi
{
    private const string Endpoint = "messages";
    private const string CountTokensEndpoint = "messages_count_tokens";

    /// <summary>Claude Code's session id: the conversation's affinity key.</summary>
    public const string SessionHeader = "x-claude-code-session-id";

    public static IEndpointRouteBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/messages", HandleAsync);
        app.MapPost("/messages", HandleAsync);
        app.MapPost("/v1/messages/count_tokens", CountTokensAsync);
        app.MapPost("/messages/count_tokens", CountTokensAsync);
        return app;
    }

    /// <summary>True for the routes whose errors Anthropic's clients read (<c>/v1/messages…</c>).</summary>
    public static bool Serves(PathString path) => path.StartsWithSegments("/v1/messages") || path.StartsWithSegments("/messages");

    public static async Task HandleAsync(HttpContext context, CompletionEndpoint completions, ReasoningSealer sealer, UpstreamSetupReport setup, UpstreamClient upstream)
    {
        var started = completions.Time.GetTimestamp();
        using var inFlight = completions.Enter();

        // The body, mapped to a chat request and prepared for llama-server
        var (request, prepared, problem) = await ReadRequestAsync(context, completions.Preparer, sealer);
        if (prepared is null)
        {
            await completions.RejectAsync(context, Endpoint, null, problem!, started);
            return;
        }

        ReportUnreadable(context, completions, request!);
        if (request!.HasImages && setup.Props is { Vision: false })
        {
            // llama-server would refuse deep inside; the client learns why before anything is sent.
            await completions.RejectAsync(context, Endpoint, prepared, new RequestProblem(400, "image blocks are not supported: llama-server was started without a vision projector (--mmproj), so the model reads no images; describe the image in text.", "messages", "invalid_request_error"), started);
            return;
        }

        // The output: thinking blocks unless the options say none, tool_use blocks always
        var profile = completions.DetectClient(context);
        if (!completions.TryResolveOutput(context, profile, out var chosen, out var headerProblem))
        {
            await completions.RejectAsync(context, Endpoint, prepared, new RequestProblem(400, headerProblem!, null, "invalid_header"), started);
            return;
        }

        var output = OutputOptions.Default with { Tools = prepared.Tools, Reasoning = chosen.Reasoning == ReasoningMode.None ? ReasoningMode.None : ReasoningMode.ReasoningContent };
        // The prompt's real size for message_start: counted by llama-server's tokenizer while it
        // processes the prompt, so nothing waits for it; the estimate stands in if it is not back yet.
        var estimate = prepared.UpstreamBody.Length / 4;
        var counted = request.Stream ? LlamaServerPromptTokens.CountAsync(upstream, prepared.UpstreamBody, context.RequestAborted) : null;
        var messagesContext = new MessagesContext(
            "msg_" + Guid.NewGuid().ToString("N"),
            prepared.Model,
            () => counted is { IsCompletedSuccessfully: true, Result: { } tokens } ? tokens : estimate,
            ShowThinking: !request!.OmitThinking,
            Seal: reasoning => sealer.Seal(reasoning) ?? string.Empty);

        await completions.ForwardAsync(context, Endpoint, prepared, output, new MessagesWire(messagesContext), profile, started);
    }

    /// <summary>
    /// <c>POST /v1/messages/count_tokens</c>: the prompt the request would send, counted by
    /// llama-server's own tokenizer (<see cref="LlamaServerPromptTokens"/>); where llama-server lacks
    /// those routes, the proxy's estimate, said so in <c>X-Harmony-Token-Count: estimated</c>.
    /// </summary>
    public static async Task CountTokensAsync(HttpContext context, CompletionEndpoint completions, ReasoningSealer sealer, UpstreamClient upstream)
    {
        var started = completions.Time.GetTimestamp();
        var (_, prepared, problem) = await ReadRequestAsync(context, completions.Preparer, sealer);
        if (prepared is null)
        {
            await completions.RejectAsync(context, CountTokensEndpoint, null, problem!, started);
            return;
        }

        var counted = await LlamaServerPromptTokens.CountAsync(upstream, prepared.UpstreamBody, context.RequestAborted);
        if (counted is null)
        {
            context.Response.Headers["X-Harmony-Token-Count"] = "estimated";
        }

        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(OpenAiJson.ToUtf8Bytes(new JsonObject { ["input_tokens"] = counted ?? prepared.UpstreamBody.Length / 4 }), context.RequestAborted);
        completions.Answered(context, CountTokensEndpoint, started);
    }

    /// <summary>Read, parse, map and prepare, in a method of its own so the trees die here.</summary>
    private static async Task<(MessagesRequest? Request, PreparedRequest? Prepared, RequestProblem? Problem)> ReadRequestAsync(
        HttpContext context, CompletionPreparer preparer, ReasoningSealer sealer)
    {
        var (json, problem) = await RequestBody.ReadObjectAsync(context, preparer.MaxRequestBodyBytes);
        if (json is null)
        {
            return (null, null, problem);
        }

        var session = context.Request.Headers[SessionHeader].ToString();
        return await preparer.MapAndPrepareAsync(context, (out RequestProblem? refused) => MessagesRequestMapper.Map(json, sealer.Unseal, session, out refused), static request => request.ChatRequest);
    }

    /// <summary>A warning and the metric for thinking blocks whose signature did not open (tampered, other keys, expired).</summary>
    private static void ReportUnreadable(HttpContext context, CompletionEndpoint services, MessagesRequest request)
    {
        if (request.UnreadableThinking > 0)
        {
            services.Metrics.MessagesThinkingNotOpened(request.UnreadableThinking);
            Log.MessagesThinkingUnreadable(services.Logger, context.TraceIdentifier, request.UnreadableThinking);
        }
    }
}
