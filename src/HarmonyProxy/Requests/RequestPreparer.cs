using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Harmony;
using HarmonyProxy.OpenAi;

namespace HarmonyProxy.Requests;

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
internal static class RequestPreparer
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

        var affinity = options.Affinity ? ConversationAffinity.KeyOf(request) : null;
        request["cache_prompt"] ??= true;
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var upstreamBody = OpenAiJson.ToUtf8Bytes(request);
        return new PreparedRequest(upstreamBody, clientStreams, wantsUsage, model, cleaned, RequestedTools.From(request))
        {
            ReasoningKept = kept,
            ReasoningDropped = dropped,
            AffinityKey = affinity,
        };
    }

    private static RequestProblem? Validate(JsonNode? body)
    {
        if (body is not JsonObject request)
        {
            return Invalid("The request body must be a JSON object.", null, "invalid_json");
        }

        if (request["messages"] is not JsonArray messages)
        {
            return request.ContainsKey("messages")
                ? Invalid("'messages' must be an array of message objects.", "messages", "invalid_type")
                : Invalid("'messages' is required.", "messages", "missing_required_parameter");
        }

        if (messages.Count == 0)
        {
            return Invalid("'messages' must contain at least one message.", "messages", "invalid_value");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message)
            {
                return Invalid($"messages[{i}] must be an object.", $"messages[{i}]", "invalid_type");
            }

            if (message["role"] is not JsonValue role || role.GetValueKind() != JsonValueKind.String)
            {
                return Invalid($"messages[{i}].role must be a string.", $"messages[{i}].role", "invalid_type");
            }

            var content = message["content"];
            if (content is not null && content.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return Invalid($"messages[{i}].content must be a string, an array of content parts, or null.", $"messages[{i}].content", "invalid_type");
            }

            if (content is JsonArray parts && ContentParts(parts, $"messages[{i}].content") is { } partProblem)
            {
                return partProblem;
            }
        }

        if (request["stream"] is { } stream && stream.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            return Invalid("'stream' must be a boolean.", "stream", "invalid_type");
        }

        if (request["stream_options"] is { } streamOptions && streamOptions is not JsonObject)
        {
            return Invalid("'stream_options' must be an object.", "stream_options", "invalid_type");
        }

        if (request["stop"] is { } stop && !IsStopValue(stop))
        {
            return Invalid("'stop' must be a string or an array of strings.", "stop", "invalid_type");
        }

        if (request["tools"] is { } tools && tools is not JsonArray)
        {
            return Invalid("'tools' must be an array.", "tools", "invalid_type");
        }

        if ((RequestFields.CheckShared(request)
            ?? RequestFields.Integer(request, "max_tokens", 1, int.MaxValue)
            ?? RequestFields.Integer(request, "max_completion_tokens", 1, int.MaxValue)
            ?? RequestFields.Number(request, "frequency_penalty", -2, 2)
            ?? RequestFields.Number(request, "presence_penalty", -2, 2)
            ?? RequestFields.Integer(request, "seed", long.MinValue, long.MaxValue)
            ?? RequestFields.Boolean(request, "logprobs")
            ?? ResponseFormat(request)
            ?? ToolChoice(request)) is { } fieldProblem)
        {
            return fieldProblem;
        }

        if (request["n"] is { } n && n.GetValueKind() != JsonValueKind.Null)
        {
            // llama-server refuses n above its slot count and never merges choices for gpt-oss;
            // one clear answer before it is called beats a 400 from deep inside it.
            if (n.GetValueKind() != JsonValueKind.Number || !n.AsValue().TryGetValue<int>(out var count) || count < 1)
            {
                return Invalid("'n' must be a positive integer.", "n", "invalid_type");
            }

            if (count > 1)
            {
                return Invalid($"'n' must be 1: llama-server serving gpt-oss returns one choice per request; got {count}. Send {count} requests instead.", "n", "unsupported_value");
            }
        }

        return null;
    }

    /// <summary>The content part types chat completions define; llama-server decides what it can read of the media ones.</summary>
    private static readonly string[] PartTypes = ["text", "image_url", "input_audio", "file", "refusal"];

    /// <summary>Each part an object of a known type; a text part's text a string.</summary>
    private static RequestProblem? ContentParts(JsonArray parts, string param)
    {
        for (var j = 0; j < parts.Count; j++)
        {
            if (parts[j] is not JsonObject part)
            {
                return Invalid($"{param}[{j}] must be a content part object.", $"{param}[{j}]", "invalid_type");
            }

            var type = JsonProperties.String(part["type"]);
            if (type is null || !PartTypes.Contains(type, StringComparer.Ordinal))
            {
                return Invalid($"{param}[{j}].type must be one of {string.Join(", ", PartTypes)}; got {part["type"]?.ToJsonString() ?? "nothing"}.", $"{param}[{j}].type", "invalid_value");
            }

            if (type == "text" && part["text"]?.GetValueKind() != JsonValueKind.String)
            {
                return Invalid($"{param}[{j}].text must be a string.", $"{param}[{j}].text", "invalid_type");
            }
        }

        return null;
    }

    /// <summary><c>response_format</c>: <c>text</c>, <c>json_object</c>, or <c>json_schema</c> with its schema object.</summary>
    private static RequestProblem? ResponseFormat(JsonObject request)
    {
        if (RequestFields.Object(request, "response_format") is { } problem)
        {
            return problem;
        }

        if (request["response_format"] is not JsonObject format)
        {
            return null;
        }

        return JsonProperties.String(format["type"]) switch
        {
            "text" or "json_object" => null,
            "json_schema" when format["json_schema"] is JsonObject { } schema && schema["schema"] is null or JsonObject => null,
            "json_schema" => Invalid("'response_format.json_schema' must be an object with a 'schema' object.", "response_format.json_schema", "invalid_type"),
            _ => Invalid($"'response_format.type' must be text, json_object or json_schema; got {format["type"]?.ToJsonString() ?? "nothing"}.", "response_format.type", "invalid_value"),
        };
    }

    /// <summary><c>tool_choice</c>: <c>none</c>, <c>auto</c>, <c>required</c>, or a function the request offers.</summary>
    private static RequestProblem? ToolChoice(JsonObject request)
    {
        if (RequestFields.IsToolChoiceMode(request["tool_choice"]))
        {
            return null;
        }

        switch (request["tool_choice"])
        {
            case JsonObject { } forced when JsonProperties.String(forced["type"]) == "function" && JsonProperties.String(forced["function"]?["name"]) is { } name:
                var offered = (request["tools"] as JsonArray ?? []).OfType<JsonObject>().Select(tool => JsonProperties.String(tool["function"]?["name"]));
                return offered.Contains(name, StringComparer.Ordinal)
                    ? null
                    : Invalid($"'tool_choice' names the function '{name}', which 'tools' does not offer.", "tool_choice", "invalid_value");
            default:
                return Invalid("'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}.", "tool_choice", "invalid_value");
        }
    }

    private static bool IsStopValue(JsonNode stop) =>
        stop.GetValueKind() == JsonValueKind.String
        || (stop is JsonArray items && items.All(item => item?.GetValueKind() == JsonValueKind.String));

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
