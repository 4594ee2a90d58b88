using System.Text.Json.Nodes;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Completions;
using HarmonyProxy.Preparation;
using HarmonyProxy.Security;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// Step 2 for every completion API: a chat request (the client's, or another API's mapped to one)
/// made ready for llama-server: reasoning under its one name, reasoning the client did not send
/// back restored from the memory, Harmony's keep/drop rule, stops and history repair
/// (<see cref="RequestPreparer"/>); a history that ends in the same tool call again and again is reported.
/// </summary>
internal sealed class CompletionPreparer(
    ReasoningMemory memory,
    IOptionsMonitor<RequestOptions> requests,
    IOptionsMonitor<LoopGuardOptions> loopGuard,
    IOptionsMonitor<UpstreamOptions> upstream,
    ProxyMetrics metrics,
    ILogger<CompletionPreparer> logger)
{
    /// <summary>The largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes => requests.CurrentValue.MaxRequestBodyBytes;

    public async Task<(PreparedRequest? Prepared, RequestProblem? Problem)> PrepareAsync(HttpContext context, JsonNode? body)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            if (body is JsonObject request && request["messages"] is JsonArray messages)
            {
                // Before the memory looks for missing reasoning and before the preparer's rule reads it.
                ReasoningDialects.Normalize(messages);
                await memory.RestoreAsync(ClientCredentials.Identity(context), messages, context.RequestAborted);
                ReportRepeatedToolCalls(context, messages);
            }
        }
        catch (Exception exception) when (RequestPreparer.IsBadText(exception))
        {
            return (null, RequestPreparer.BadText(exception));
        }

        var prepared = RequestPreparer.Prepare(body, PreparationOptions(requests.CurrentValue, upstream.CurrentValue.SeveralBackends), out var problem);
        if (problem is not null)
        {
            return (null, problem);
        }

        metrics.ReasoningRule(prepared.ReasoningKept, prepared.ReasoningDropped);
        return (prepared, null);
    }

    /// <summary>Maps another API's request to a chat request; null with the problem when it is refused.</summary>
    internal delegate T? RequestMapping<T>(out RequestProblem? problem);

    /// <summary>
    /// For the APIs that map to a chat request (Responses, Messages): the mapping, guarded against
    /// text the JSON reader let through but cannot make a string of, then <see cref="PrepareAsync"/>
    /// on its chat request.
    /// </summary>
    public async Task<(T? Request, PreparedRequest? Prepared, RequestProblem? Problem)> MapAndPrepareAsync<T>(
        HttpContext context, RequestMapping<T> map, Func<T, JsonObject> chatRequest)
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

        var (prepared, preparationProblem) = await PrepareAsync(context, chatRequest(request));
        return preparationProblem is null ? (request, prepared, null) : (null, null, preparationProblem);
    }

    public static RequestPreparationOptions PreparationOptions(RequestOptions options, bool severalBackends) => new()
    {
        HarmonyStopsEnabled = options.HarmonyStopsEnabled,
        ExtraStops = options.ExtraStopSequences,
        CleanHistory = options.CleanHistory,
        DefaultReasoningEffort = string.IsNullOrEmpty(options.DefaultReasoningEffort) ? null : options.DefaultReasoningEffort,
        Affinity = severalBackends,
    };

    private void ReportRepeatedToolCalls(HttpContext context, JsonArray messages)
    {
        var repeated = RepeatedToolCalls.AtEnd(messages);
        if (repeated >= loopGuard.CurrentValue.RepeatedToolCallThreshold)
        {
            metrics.LoopSeen("repeated_tool_call");
            Log.RepeatedToolCall(logger, context.TraceIdentifier, repeated);
        }
    }
}
