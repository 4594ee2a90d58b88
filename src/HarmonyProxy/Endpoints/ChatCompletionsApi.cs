using System.Diagnostics;
using HarmonyProxy.Completions;
using HarmonyProxy.Configuration;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Requests;

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
    private const string Endpoint = "chat_completions";

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", HandleAsync);
        app.MapPost("/chat/completions", HandleAsync);
        return app;
    }

    public static async Task HandleAsync(HttpContext context, CompletionServices services)
    {
        var options = services.Options.CurrentValue;
        var started = Stopwatch.GetTimestamp();
        using var inFlight = services.Enter();

        // Step 2: the body, read with its size limit and prepared for llama-server
        var (prepared, problem) = await ReadRequestAsync(context, services, options);
        if (prepared is null)
        {
            await services.RejectAsync(context, Endpoint, "unknown", problem!, started);
            return;
        }

        // Step 3: the output options (configuration, the client's profile, per-request headers)
        var profile = services.DetectClient(context, options);
        if (!OutputOptionsResolver.TryResolve(options.Output, profile, context.Request.Headers, out var output, out var headerProblem))
        {
            await services.RejectAsync(context, Endpoint, CompletionServices.Stream(prepared), new RequestProblem(400, headerProblem!, null, "invalid_header"), started);
            return;
        }

        // Steps 4-10: a slot, the attempts, the one ending, the record (CompletionServices)
        await services.CompleteAsync(context, Endpoint, prepared, output with { Tools = prepared.Tools }, new ChatCompletionWire(output.ReasoningFields), options, started);
    }

    /// <summary>
    /// Reads, parses and prepares the body in a method of its own: the raw bytes and the parsed
    /// tree then die here instead of living in the caller's state machine for the whole stream.
    /// </summary>
    private static async Task<(PreparedRequest? Prepared, RequestProblem? Problem)> ReadRequestAsync(HttpContext context, CompletionServices services, HarmonyProxyOptions options)
    {
        var body = await RequestBody.ReadAsync(context, options.Requests.MaxRequestBodyBytes);
        if (body is null)
        {
            return (null, new RequestProblem(413, $"The request body is larger than the limit of {options.Requests.MaxRequestBodyBytes} bytes.", null, "request_too_large"));
        }

        var json = RequestPreparer.ParseBody(body, out var problem);
        return problem is null ? await services.PrepareAsync(context, json, options) : (null, problem);
    }
}
