using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Harmony;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>A client request checked and rewritten for llama-server.</summary>
/// <param name="UpstreamBody">
/// The body to send, as UTF-8 JSON: the client's, with stops merged, history cleaned and
/// streaming on. Serialized once, so a stream holds these bytes (for retries) rather than the
/// parsed tree of a conversation that can run to hundreds of kilobytes.
/// </param>
/// <param name="ClientStreams">The client asked for SSE.</param>
/// <param name="ClientWantsUsage">The client asked for <c>stream_options.include_usage</c>.</param>
/// <param name="Model">The requested model, for logs and metrics.</param>
/// <param name="CleanedMessages">How many assistant messages had Harmony markup removed.</param>
/// <param name="Tools">Which tool calls may reach the client as <c>tool_calls</c>.</param>
internal sealed record PreparedRequest(byte[] UpstreamBody, bool ClientStreams, bool ClientWantsUsage, string? Model, int CleanedMessages, ToolPolicy Tools)
{
    /// <summary>Assistant turns whose reasoning went to llama-server by Harmony's rule.</summary>
    public int ReasoningKept { get; init; }

    /// <summary>Assistant turns whose reasoning the rule removed (turns up to the last final answer).</summary>
    public int ReasoningDropped { get; init; }

    /// <summary>Which backend's prompt cache the conversation belongs to (<see cref="ConversationAffinity"/>), when several backends are configured.</summary>
    public string? AffinityKey { get; init; }
}

/// <summary>Why a request was refused, in OpenAI's terms.</summary>
internal sealed record RequestProblem(int Status, string Message, string? Param, string Code);

/// <summary>How requests are rewritten before llama-server sees them.</summary>
internal sealed record RequestPreparationOptions
{
    public static readonly IReadOnlyList<string> HarmonyStops = [HarmonyTags.Return, HarmonyTags.Call];

    /// <summary>Add <c>&lt;|return|&gt;</c> and <c>&lt;|call|&gt;</c> (and <see cref="ExtraStops"/>) to <c>stop</c>.</summary>
    public bool HarmonyStopsEnabled { get; init; } = true;

    public IReadOnlyList<string> ExtraStops { get; init; } = [];

    /// <summary>Reduce assistant history with Harmony markup to its final text (llama.cpp #15091).</summary>
    public bool CleanHistory { get; init; } = true;

    /// <summary>The reasoning effort for requests that name none (low, medium, high); null leaves llama-server's default.</summary>
    public string? DefaultReasoningEffort { get; init; }

    /// <summary>Work out the conversation's affinity key (several backends share the load).</summary>
    public bool Affinity { get; init; }
}

/// <summary>
/// Validates a chat completion request and prepares it for llama-server: merges the Harmony
/// stop strings into <c>stop</c>, cleans assistant history the gpt-oss template would reject,
/// applies Harmony's keep/drop rule to reasoning (already under its one name, <see cref="ReasoningDialects"/>),
/// and always streams from upstream (so stalls are visible and llama-server's non-streaming
/// parse failures, llama.cpp #25321, are avoided). Everything else passes through untouched.
/// </summary>
internal static partial class RequestPreparer
{
    public static PreparedRequest Prepare(JsonNode? body, RequestPreparationOptions options, out RequestProblem? problem)
    {
        try
        {
            return PrepareCore(body, options, out problem);
        }
        catch (Exception exception) when (IsBadText(exception))
        {
            problem = BadText(exception);
            return null!;
        }
    }

    /// <summary>
    /// Text the JSON reader accepted but cannot turn into a string (a lone surrogate escape such
    /// as \ud800), found when a field is read or when the body is written again.
    /// </summary>
    public static bool IsBadText(Exception exception) => exception is InvalidOperationException or JsonException { InnerException: InvalidOperationException };

    /// <summary>The 400 for <see cref="IsBadText"/>.</summary>
    public static RequestProblem BadText(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var reason = (exception.InnerException ?? exception).Message;
        return Invalid($"The request body holds a string that is not valid text (an unpaired surrogate escape?): {reason}", null, "invalid_value");
    }

    private static PreparedRequest PrepareCore(JsonNode? body, RequestPreparationOptions options, out RequestProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(options);
        problem = Validate(body);
        if (problem is not null)
        {
            return null!;
        }

        var request = (JsonObject)body!;
        var clientStreams = request["stream"]?.GetValue<bool>() ?? false;
        var wantsUsage = request["stream_options"] is JsonObject streamOptions && streamOptions["include_usage"] is JsonValue include && include.GetValueKind() == JsonValueKind.True;
        var model = request["model"] is JsonValue modelValue && modelValue.GetValueKind() == JsonValueKind.String ? modelValue.GetValue<string>() : null;

        problem = ReasoningEffort.Apply(request, options.DefaultReasoningEffort);
        if (problem is not null)
        {
            return null!;
        }

        if (options.HarmonyStopsEnabled)
        {
            MergeStops(request, options.ExtraStops);
        }

        var messages = request["messages"]!.AsArray();
        var cleaned = options.CleanHistory ? HistoryRepair.CleanLeakedMarkup(messages) : 0;
        var (kept, dropped) = ReasoningRetention.Apply(messages);
        InstructionMessages.Merge(messages);
        var tools = RequestedTools.From(request);
        tools = tools with { ClientNames = BuiltInToolNames.Rename(request, RequestedTools.OfferedNames(request)) };

        var affinity = options.Affinity ? ConversationAffinity.KeyOf(request) : null;
        request["cache_prompt"] ??= true;
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var upstreamBody = OpenAiJson.ToUtf8Bytes(request);
        return new PreparedRequest(upstreamBody, clientStreams, wantsUsage, model, cleaned, tools)
        {
            ReasoningKept = kept,
            ReasoningDropped = dropped,
            AffinityKey = affinity,
        };
    }

    private static RequestProblem Invalid(string message, string? param, string code) => new(400, message, param, code);

    private static void MergeStops(JsonObject request, IReadOnlyList<string> extra)
    {
        var stops = new List<string>();
        switch (request["stop"])
        {
            case JsonValue single:
                stops.Add(single.GetValue<string>());
                break;
            case JsonArray many:
                stops.AddRange(many.Select(item => item!.GetValue<string>()));
                break;
        }

        foreach (var stop in RequestPreparationOptions.HarmonyStops.Concat(extra))
        {
            if (!stops.Contains(stop, StringComparer.Ordinal))
            {
                stops.Add(stop);
            }
        }

        var merged = new JsonArray();
        foreach (var stop in stops.Where(stop => stop.Length > 0).Distinct(StringComparer.Ordinal))
        {
            merged.AddNode(stop);
        }

        request["stop"] = merged;
    }

    /// <summary>Parses a request body; malformed JSON becomes a problem, never an exception.</summary>
    public static JsonNode? ParseBody(ReadOnlySpan<byte> utf8, out RequestProblem? problem)
    {
        problem = null;
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            // JsonNode decodes names and strings lazily; invalid UTF-8 would surface later as a 500.
            problem = Invalid("The request body is not valid UTF-8.", null, "invalid_json");
            return null;
        }

        try
        {
            return JsonNode.Parse(utf8, documentOptions: OpenAiJson.DocumentOptions);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException or System.Text.DecoderFallbackException)
        {
            // Invalid UTF-8 and lone surrogates surface as non-JSON exceptions.
            problem = Invalid($"The request body is not valid JSON: {exception.Message}", null, "invalid_json");
            return null;
        }
    }
}
