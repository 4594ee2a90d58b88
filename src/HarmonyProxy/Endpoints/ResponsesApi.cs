using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Memory;
using HarmonyProxy.Preparation;
using HarmonyProxy.Preparation.Responses;
using HarmonyProxy.Security;
using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// <c>POST /v1/responses</c> (Codex and every Responses API client), and <c>GET</c>/<c>DELETE</c>
/// of stored responses. A request is mapped to one chat request (<see cref="ResponsesRequestMapper"/>)
/// and then takes the chat completions path (<see cref="Forwarding.CompletionForwarder"/>): the same
/// preparation, attempts, recoveries, watchdogs and records; only the client's shape differs
/// (<see cref="ResponsesWire"/>).
/// </summary>
internal static class ResponsesApi
{
    private const string Endpoint = "responses";

    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in new[] { "/v1/responses", "/responses" })
        {
            app.MapPost(prefix, HandleAsync);
            app.MapGet(prefix + "/{id}", GetAsync);
            app.MapDelete(prefix + "/{id}", DeleteAsync);
        }

        return app;
    }

    public static async Task HandleAsync(HttpContext context, CompletionEndpoint completions, ResponseStore store, ReasoningSealer sealer)
    {
        var started = completions.Time.GetTimestamp();
        using var inFlight = completions.Enter();
        var owner = ClientCredentials.Identity(context);

        // The body, mapped to a chat request and prepared for llama-server
        var (request, prepared, problem) = await ReadRequestAsync(context, completions.Preparer, store, sealer, owner);
        if (prepared is null)
        {
            await completions.RejectAsync(context, Endpoint, null, problem!, started);
            return;
        }

        ReportLeftOut(context, completions, request!);

        // The output: reasoning items and function calls, whatever the deployment's chat options
        var profile = completions.DetectClient(context);
        var output = OutputOptions.Default with { Tools = prepared.Tools };
        var responseContext = new ResponseContext(
            "resp_" + Guid.NewGuid().ToString("N"),
            completions.Time.GetUtcNow().ToUnixTimeSeconds(),
            prepared.Model,
            request!.Echo,
            request.Tools,
            request.IncludeEncryptedReasoning ? sealer.Seal : null);
        var wire = new ResponsesWire(responseContext);

        await completions.ForwardAsync(context, Endpoint, prepared, output, wire, profile, started);

        if (request.Store && wire.Output is { Status: not "in_progress" } finished)
        {
            var conversation = request.Conversation;
            foreach (var item in JsonNode.Parse(finished.OutputItemsJson())!.AsArray())
            {
                conversation.Add(item!.DeepClone());
            }

            await store.PutAsync(owner, responseContext.Id, new StoredResponse(finished.ToJson(), OpenAiJson.ToUtf8Bytes(conversation)), CancellationToken.None);
        }
    }

    public static async Task GetAsync(HttpContext context, string id, ResponseStore store)
    {
        if (await store.GetAsync(ClientCredentials.Identity(context), id, context.RequestAborted) is not { } stored)
        {
            await NotFoundAsync(context, id);
            return;
        }

        await WriteJsonAsync(context, stored.Response);
    }

    public static async Task DeleteAsync(HttpContext context, string id, ResponseStore store)
    {
        if (!await store.DeleteAsync(ClientCredentials.Identity(context), id, context.RequestAborted))
        {
            await NotFoundAsync(context, id);
            return;
        }

        await WriteJsonAsync(context, OpenAiJson.ToUtf8Bytes(new JsonObject { ["id"] = id, ["object"] = "response", ["deleted"] = true }));
    }

    private static async Task WriteJsonAsync(HttpContext context, byte[] json)
    {
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>Read, parse, continue a stored conversation, map and prepare, in a method of its own so the trees die here.</summary>
    private static async Task<(ResponsesRequest? Request, PreparedRequest? Prepared, RequestProblem? Problem)> ReadRequestAsync(
        HttpContext context, CompletionPreparer preparer, ResponseStore store, ReasoningSealer sealer, string owner)
    {
        var (json, problem) = await RequestBody.ReadObjectAsync(context, preparer.MaxRequestBodyBytes);
        if (json is null)
        {
            return (null, null, problem);
        }

        JsonArray? previous = null;
        if (json["previous_response_id"] is JsonValue previousId && previousId.GetValueKind() == JsonValueKind.String)
        {
            var id = previousId.GetValue<string>();
            if (await store.GetAsync(owner, id, context.RequestAborted) is not { } stored)
            {
                return (null, null, new RequestProblem(400, $"Previous response with id '{id}' not found.", "previous_response_id", "previous_response_not_found"));
            }

            previous = JsonNode.Parse(stored.Conversation)!.AsArray();
        }

        return await preparer.MapAndPrepareAsync(context, (out RequestProblem? refused) => ResponsesRequestMapper.Map(json, previous, sealer.Unseal, out refused), static request => request.ChatRequest);
    }

    /// <summary>One log line and the metric for what llama-server cannot serve; a warning for reasoning blobs that did not open.</summary>
    private static void ReportLeftOut(HttpContext context, CompletionEndpoint services, ResponsesRequest request)
    {
        foreach (var type in request.Tools.Omitted)
        {
            services.Metrics.ResponsesPartLeftOut("tool", KnownType(type));
        }

        foreach (var type in request.OmittedItems)
        {
            services.Metrics.ResponsesPartLeftOut("item", KnownType(type));
        }

        if (request.Tools.Omitted.Count > 0 || request.OmittedItems.Count > 0)
        {
            Log.ResponsesPartsLeftOut(services.Logger, context.TraceIdentifier, string.Join(", ", request.Tools.Omitted), string.Join(", ", request.OmittedItems));
        }

        if (request.UnreadableReasoning > 0)
        {
            services.Metrics.ResponsesReasoningNotOpened(request.UnreadableReasoning);
            Log.ResponsesReasoningUnreadable(services.Logger, context.TraceIdentifier, request.UnreadableReasoning);
        }
    }

    /// <summary>A metric label from the client's text: only OpenAI's own type names, anything else is <c>other</c>.</summary>
    private static string KnownType(string type) => OpenAiTypes.Contains(type) ? type : "other";

    private static readonly HashSet<string> OpenAiTypes = new(StringComparer.Ordinal)
    {
        "web_search", "web_search_preview", "web_search_call", "file_search", "file_search_call", "image_generation", "image_generation_call",
        "computer_use", "computer_use_preview", "computer_call", "computer_call_output", "mcp", "mcp_call", "mcp_list_tools", "mcp_approval_request",
        "mcp_approval_response", "tool_search", "tool_search_call", "tool_search_output", "code_interpreter", "code_interpreter_call", "local_shell",
        "local_shell_call", "local_shell_call_output", "shell", "shell_call", "shell_call_output", "apply_patch", "apply_patch_call",
        "apply_patch_call_output", "item_reference", "compaction", "untyped",
    };

    private static Task NotFoundAsync(HttpContext context, string id) =>
        ErrorResults.WriteAsync(context, StatusCodes.Status404NotFound, $"No response found with id '{id}'.", OpenAiError.InvalidRequest, "not_found");
}
