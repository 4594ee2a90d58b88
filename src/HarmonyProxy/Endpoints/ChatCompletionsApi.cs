using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// <c>POST /v1/chat/completions</c>: read and prepare the chat request (400/413), resolve the
/// output options (configuration, the client's profile, headers), then the forwarder
/// (<see cref="Forwarding.CompletionForwarder"/>) with the chat wire (<see cref="ChatCompletionWire"/>).
/// </summary>
internal static class ChatCompletionsApi
{
    private const string Endpoint = "chat_completions";

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", HandleAsync);
        app.MapPost("/chat/completions", HandleAsync);
        return app;
    }

    public static async Task HandleAsync(HttpContext context, CompletionEndpoint completions)
    {
        var started = completions.Time.GetTimestamp();
        using var inFlight = completions.Enter();

        // The body, read with its size limit and prepared for llama-server
        var (prepared, problem) = await ReadRequestAsync(context, completions.Preparer);
        if (prepared is null)
        {
            await completions.RejectAsync(context, Endpoint, null, problem!, started);
            return;
        }

        // The output options (configuration, the client's profile, per-request headers)
        var profile = completions.DetectClient(context);
        if (!completions.TryResolveOutput(context, profile, out var output, out var headerProblem))
        {
            await completions.RejectAsync(context, Endpoint, prepared, new RequestProblem(400, headerProblem!, null, "invalid_header"), started);
            return;
        }

        await completions.ForwardAsync(context, Endpoint, prepared, output with { Tools = prepared.Tools }, new ChatCompletionWire(output.ReasoningFields), profile, started);
    }

    /// <summary>
    /// Reads, parses and prepares the body in a method of its own: the raw bytes and the parsed
    /// tree then die here instead of living in the caller's state machine for the whole stream.
    /// </summary>
    private static async Task<(PreparedRequest? Prepared, RequestProblem? Problem)> ReadRequestAsync(HttpContext context, CompletionPreparer preparer)
    {
        var body = await RequestBody.ReadAsync(context, preparer.MaxRequestBodyBytes);
        if (body is null)
        {
            return (null, new RequestProblem(413, $"The request body is larger than the limit of {preparer.MaxRequestBodyBytes} bytes.", null, "request_too_large"));
        }

        var json = RequestPreparer.ParseBody(body, out var problem);
        return problem is null ? await preparer.PrepareAsync(context, json) : (null, problem);
    }
}
