using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace LlamaServerSim;

/// <summary>Defaults for requests that have no <see cref="SimScript"/> queued.</summary>
public sealed record SimulatorOptions
{
    public SimFlavour Flavour { get; init; } = SimFlavour.Raw;

    /// <summary>0 sends tokens as fast as possible.</summary>
    public double TokensPerSecond { get; init; }

    public string Model { get; init; } = "gpt-oss-20b";

    /// <summary>Served by /health and /v1/models while true; 503 "Loading model" otherwise.</summary>
    public bool Ready { get; init; } = true;

    /// <summary>Share of requests (without a queued script) that get a random fault; for soak runs.</summary>
    public double FaultRate { get; init; }

    /// <summary>
    /// llama-server's own gpt-oss parser fails every request that does not ask for raw output
    /// (<c>reasoning_format: none</c> with <c>parse_tool_calls: false</c>); those are answered
    /// in the raw flavour (llama-server.md §3, "Parse-error mechanics").
    /// </summary>
    public SimParseFailure ParseFailure { get; init; }

    /// <summary>The gpt-oss template's history checks (llama-server.md §2.6) answer 500 as a real template does.</summary>
    public bool TemplateChecks { get; init; }

    /// <summary>Never send usage, even when asked (a server or a proxy in between that drops it).</summary>
    public bool OmitUsage { get; init; }

    /// <summary>Serve <c>/props</c>; builds before it existed answer 404.</summary>
    public bool PropsAvailable { get; init; } = true;

    /// <summary><c>/props</c> <c>total_slots</c> (llama-server's <c>-np</c>).</summary>
    public int TotalSlots { get; init; } = 4;

    /// <summary><c>/props</c> <c>default_generation_settings.n_ctx</c>: the context of one slot.</summary>
    public int ContextSize { get; init; } = 8192;

    public string BuildInfo { get; init; } = "b6865-1c1409e13";

    /// <summary>The Jinja template <c>/props</c> reports; gpt-oss's holds Harmony tags.</summary>
    public string ChatTemplate { get; init; } = LlamaServerSimulator.GptOssTemplateExcerpt;
}

/// <summary>How llama-server's parser fails a gpt-oss turn.</summary>
public enum SimParseFailure
{
    None,

    /// <summary>The final parse throws before the first delta: HTTP 500 "Failed to parse input at pos 0: …".</summary>
    BeforeOutput,

    /// <summary>The reasoning streams, then the final parse throws: an error event, no finish, no <c>[DONE]</c>.</summary>
    AfterReasoning,
}

/// <summary>
/// A llama-server look-alike for gpt-oss: <c>/health</c>, <c>/v1/models</c> and
/// <c>/v1/chat/completions</c> with llama-server's exact framing (llama-server.md §1): a role
/// chunk with <c>content: null</c> sent with the first token, one delta per token, a finish
/// chunk, the usage chunk when asked, <c>timings</c> on the last chunk, <c>[DONE]</c>. It
/// replays transcripts in any flavour at a set token rate, with injectable faults.
/// </summary>
public sealed class LlamaServerSimulator : IAsyncDisposable
{
    /// <summary>The part of gpt-oss's chat template that identifies it.</summary>
    public const string GptOssTemplateExcerpt = "{#- gpt-oss -#}{{- \"<|start|>assistant<|channel|>final<|message|>\" }}";

    public const string ParseFailureMessage = "Failed to parse input at pos 0: <|channel|>analysis<|message|>";
    public const string ThinkingWithContentMessage = "Cannot pass both content and thinking in an assistant message with tool calls! Put the final response in content and the chain of thought in thinking.";
    public const string TagsInContentMessage = "You have passed a message containing <|channel|> tags in the content field. Instead of doing this, you should pass analysis messages (the string between '<|message|>' and '<|end|>') in the 'thinking' field, and final messages (the string between '<|message|>' and '<|end|>') in the 'content' field.";

    private const string Fingerprint = "b6865-1c1409e13";
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SimScript> _scripts = new();
    private readonly ConcurrentQueue<JsonObject> _requests = new();
    private readonly ConcurrentQueue<(string Path, string Body)> _otherRequests = new();
    private int _openStreams;
    private int _connectionsClosed;

    private LlamaServerSimulator(WebApplication app, SimulatorOptions options)
    {
        _app = app;
        Options = options;
    }

    public SimulatorOptions Options { get; set; }

    /// <summary>The base URL clients use, ending in <c>/v1</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every chat request body received, in order.</summary>
    public IReadOnlyCollection<JsonObject> Requests => _requests;

    public int ChatRequestCount => _requests.Count;

    /// <summary>Chat streams currently being written.</summary>
    public int OpenStreams => Volatile.Read(ref _openStreams);

    /// <summary>Streams that ended because the client went away.</summary>
    public int ClientDisconnects => Volatile.Read(ref _connectionsClosed);

    /// <summary>Raised when a stream ends because the client disconnected.</summary>
    public event Action? ClientDisconnected;

    public void Enqueue(params SimScript[] scripts)
    {
        foreach (var script in scripts)
        {
            _scripts.Enqueue(script);
        }
    }

    public static async Task<LlamaServerSimulator> StartAsync(SimulatorOptions? options = null, string url = "http://127.0.0.1:0", string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var simulator = new LlamaServerSimulator(app, options ?? new SimulatorOptions());
        simulator.Map(app);
        await app.StartAsync();
        var address = app.Urls.First();
        simulator.BaseAddress = new Uri(address.TrimEnd('/') + "/v1");
        return simulator;
    }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/health", (HttpContext context) => Options.Ready ? Results.Json(new { status = "ok" }) : LoadingModel(context));
        app.MapGet("/v1/health", (HttpContext context) => Options.Ready ? Results.Json(new { status = "ok" }) : LoadingModel(context));
        app.MapGet("/v1/models", (HttpContext context) => Options.Ready ? Results.Text(ModelsJson(), "application/json") : LoadingModel(context));
        app.MapGet("/models", (HttpContext context) => Options.Ready ? Results.Text(ModelsJson(), "application/json") : LoadingModel(context));
        app.MapGet("/v1/models/{id}", (string id) => id == Options.Model
            ? Results.Text(JsonSerializer.Serialize(ModelEntry(), Compact), "application/json")
            : Results.Json(Error("File Not Found", "not_found_error", 404), statusCode: 404));
        app.MapGet("/props", (HttpContext context) => !Options.PropsAvailable
            ? Results.Json(Error("File Not Found", "not_found_error", 404), statusCode: 404)
            : Options.Ready ? Results.Text(PropsJson(), "application/json") : LoadingModel(context));
        app.MapPost("/v1/chat/completions", ChatAsync);
        app.MapPost("/chat/completions", ChatAsync);
        MapOtherRoutes(app);
        app.MapGet("/_sim/stats", () => Results.Json(new { requests = ChatRequestCount, open_streams = OpenStreams, client_disconnects = ClientDisconnects }));
        app.MapFallback(() => Results.Json(Error("File Not Found", "not_found_error", 404), statusCode: 404));
    }

    /// <summary>Every request to a route other than chat completions: its path and body, in order.</summary>
    public IReadOnlyCollection<(string Path, string Body)> OtherRequests => _otherRequests;

    /// <summary>llama-server's routes beyond chat (llama-server.md §4): completions, embeddings, rerank, tokenize, slots.</summary>
    private void MapOtherRoutes(WebApplication app)
    {
        foreach (var path in (string[])["/v1/completions", "/completions", "/v1/embeddings", "/embeddings", "/v1/rerank", "/rerank", "/tokenize", "/detokenize"])
        {
            app.MapPost(path, async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                _otherRequests.Enqueue((path, body));
                if (!Options.Ready)
                {
                    await WriteErrorAsync(context, 503, "Loading model", "unavailable_error");
                    return;
                }

                var request = JsonNode.Parse(body) as JsonObject ?? [];
                await (path switch
                {
                    "/v1/completions" or "/completions" => CompletionAsync(context, request),
                    "/v1/embeddings" or "/embeddings" => Json(context, new JsonObject
                    {
                        ["model"] = Options.Model,
                        ["object"] = "list",
                        ["usage"] = new JsonObject { ["prompt_tokens"] = 3, ["total_tokens"] = 3 },
                        ["data"] = new JsonArray(new JsonObject { ["embedding"] = new JsonArray(0.25, -0.5, 0.125), ["index"] = 0, ["object"] = "embedding" }),
                    }),
                    "/v1/rerank" or "/rerank" => Json(context, new JsonObject
                    {
                        ["model"] = Options.Model,
                        ["object"] = "list",
                        ["results"] = new JsonArray(new JsonObject { ["index"] = 0, ["relevance_score"] = 0.875 }),
                    }),
                    "/tokenize" => Json(context, new JsonObject { ["tokens"] = new JsonArray(13225, 2375) }),
                    _ => Json(context, new JsonObject { ["content"] = "Hello world" }),
                });
            });
        }

        // On by default in llama-server; it shows every slot's prompt, so the proxy must not pass it on.
        app.MapGet("/slots", () => Results.Json(new[] { new { id = 0, is_processing = false, prompt = "another user's secret prompt" } }));
    }

    /// <summary>The OpenAI text completion: <c>choices[].text</c>, streamed one token per event when asked.</summary>
    private async Task CompletionAsync(HttpContext context, JsonObject request)
    {
        string[] pieces = ["Once", " upon", " a", " time"];
        if (request["stream"]?.GetValue<bool>() != true)
        {
            await Json(context, new JsonObject
            {
                ["choices"] = new JsonArray(new JsonObject { ["text"] = string.Concat(pieces), ["index"] = 0, ["logprobs"] = null, ["finish_reason"] = "length" }),
                ["model"] = Options.Model,
                ["object"] = "text_completion",
            });
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var piece in pieces)
        {
            var chunk = new JsonObject
            {
                ["choices"] = new JsonArray(new JsonObject { ["text"] = piece, ["index"] = 0, ["logprobs"] = null, ["finish_reason"] = null }),
                ["model"] = Options.Model,
                ["object"] = "text_completion",
            };
            await context.Response.WriteAsync("data: " + chunk.ToJsonString(Compact) + "\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static Task Json(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(Compact), context.RequestAborted);
    }

    /// <summary>A random fault from the ones llama-server really shows, at <see cref="SimulatorOptions.FaultRate"/>.</summary>
    private SimScript? RandomFault()
    {
        if (Options.FaultRate <= 0 || Random.Shared.NextDouble() >= Options.FaultRate)
        {
            return null;
        }

        return Random.Shared.Next(6) switch
        {
            0 => new SimScript { FailStatus = 503 },
            1 => new SimScript { ResetBeforeFirstByte = true },
            2 => new SimScript { ErrorAfterTokens = Random.Shared.Next(1, 40) },
            3 => new SimScript { ResetAfterTokens = Random.Shared.Next(1, 40) },
            4 => new SimScript { StallAfterTokens = Random.Shared.Next(1, 40), StallDuration = TimeSpan.FromMinutes(10) },
            _ => new SimScript { StallBeforeFirstToken = TimeSpan.FromSeconds(Random.Shared.Next(1, 4)) },
        };
    }

    private static IResult LoadingModel(HttpContext context) =>
        Results.Json(Error("Loading model", "unavailable_error", 503), statusCode: 503);

    private async Task ChatAsync(HttpContext context)
    {
        JsonObject request;
        try
        {
            request = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        }
        catch (JsonException exception)
        {
            await WriteErrorAsync(context, 500, $"[json.exception.parse_error.101] {exception.Message}", "server_error");
            return;
        }

        _requests.Enqueue(request);
        var script = _scripts.TryDequeue(out var queued) ? queued : RandomFault() ?? new SimScript();
        if (!Options.Ready)
        {
            await WriteErrorAsync(context, 503, "Loading model", "unavailable_error");
            return;
        }

        if (script.ResetBeforeFirstByte)
        {
            context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
            context.Abort();
            return;
        }

        if (Options.TemplateChecks && TemplateProblem(request) is { } problem)
        {
            await WriteErrorAsync(context, 500, problem, "server_error");
            return;
        }

        var asksRaw = request["reasoning_format"]?.GetValue<string>() == "none" && request["parse_tool_calls"]?.GetValue<bool>() == false;
        if (Options.ParseFailure != SimParseFailure.None)
        {
            script = asksRaw
                ? script with { Flavour = SimFlavour.Raw }
                : Options.ParseFailure == SimParseFailure.BeforeOutput
                    ? script with { FailStatus = 500, FailMessage = ParseFailureMessage }
                    : script with { Flavour = SimFlavour.Parsed, ErrorMessage = ParseFailureMessage, ErrorAfterReasoning = true };
        }

        if (script.FailStatus is { } status)
        {
            await WriteErrorAsync(context, status, script.FailMessage, status switch
            {
                400 => "invalid_request_error",
                401 => "authentication_error",
                404 => "not_found_error",
                503 => "unavailable_error",
                _ => "server_error",
            });
            return;
        }

        var stream = request["stream"]?.GetValue<bool>() ?? false;
        var includeUsage = request["stream_options"]?["include_usage"]?.GetValue<bool>() ?? false;
        var flavour = script.Flavour ?? Options.Flavour;
        var tokens = BuildTokens(request, script, flavour, out var toolName);
        if (script.ErrorAfterReasoning)
        {
            script = script with { ErrorAfterTokens = tokens.FindLastIndex(token => token.Kind == "reasoning") + 1 };
        }

        var finish = script.FinishReason ?? (flavour == SimFlavour.Parsed && tokens.Any(token => token.Kind == "tool") ? "tool_calls" : "stop");
        var promptTokens = Math.Max(1, (int)(context.Request.ContentLength ?? 400) / 4);
        if (promptTokens > Options.ContextSize)
        {
            // llama-server.md §4.1: checked before any token, an HTTP error also for streams.
            var overflow = Error($"request ({promptTokens} tokens) exceeds the available context size ({Options.ContextSize} tokens), try increasing it", "exceed_context_size_error", 400);
            overflow["error"]!["n_prompt_tokens"] = promptTokens;
            overflow["error"]!["n_ctx"] = Options.ContextSize;
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(overflow.ToJsonString(Compact), context.RequestAborted);
            return;
        }

        if (script.RawBody is { } rawBody)
        {
            // Bytes a transcript cannot produce (bad UTF-8, lone surrogate escapes): sent verbatim.
            context.Response.ContentType = stream ? "text/event-stream" : "application/json; charset=utf-8";
            await context.Response.Body.WriteAsync(rawBody, context.RequestAborted);
            return;
        }

        if (!stream)
        {
            await WriteWholeAsync(context, tokens, flavour, finish, promptTokens, toolName);
            return;
        }

        Interlocked.Increment(ref _openStreams);
        try
        {
            await StreamAsync(context, script, tokens, flavour, finish, includeUsage, promptTokens, toolName);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref _connectionsClosed);
            ClientDisconnected?.Invoke();
        }
        catch (IOException)
        {
            Interlocked.Increment(ref _connectionsClosed);
            ClientDisconnected?.Invoke();
        }
        finally
        {
            Interlocked.Decrement(ref _openStreams);
        }
    }

    private async Task StreamAsync(HttpContext context, SimScript script, List<SimToken> tokens, SimFlavour flavour, string finish, bool includeUsage, int promptTokens, string toolName)
    {
        var cancellation = context.RequestAborted;
        var id = "chatcmpl-" + RandomString(32);
        var toolId = RandomString(32);
        var rate = script.TokensPerSecond ?? Options.TokensPerSecond;
        var delay = rate > 0 ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;

        if (script.StallBeforeFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(script.StallBeforeFirstToken, cancellation);
        }

        // llama-server commits headers with its first result (PR #16486).
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers["Server"] = "llama.cpp";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var sent = 0;
        var toolStarted = false;
        var pending = new StringBuilder();
        pending.Append(Event(Chunk(id, new JsonObject { ["role"] = "assistant", ["content"] = null }, null)));
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (script.Gate is not null)
            {
                await script.Gate(i, cancellation);
            }
            else if (delay > TimeSpan.Zero && i > 0)
            {
                await Task.Delay(delay, cancellation);
            }

            if (script.StallAfterTokens == i)
            {
                await Task.Delay(script.StallDuration, cancellation);
            }

            if (script.ErrorAfterTokens == i)
            {
                if (script.LegacyErrorFraming)
                {
                    // Builds before Sep 2025 (llama-server.md §4.3): a bare error field, then [DONE].
                    pending.Append("error: ").Append(Error(script.ErrorMessage, ErrorType(script.ErrorCode), script.ErrorCode)["error"]!.ToJsonString(Compact)).Append("\n\n");
                    pending.Append("data: [DONE]\n\n");
                }
                else
                {
                    pending.Append(Event(new JsonObject { ["error"] = Error(script.ErrorMessage, ErrorType(script.ErrorCode), script.ErrorCode)["error"]!.DeepClone() }));
                }

                await WriteAsync(context, pending, cancellation);
                return;
            }

            if (script.ResetAfterTokens == i)
            {
                await WriteAsync(context, pending, cancellation);
                context.Abort();
                return;
            }

            var delta = DeltaFor(token, flavour, toolId, toolName, ref toolStarted);
            if (delta is not null)
            {
                pending.Append(Event(Chunk(id, delta, null)));
            }

            sent++;
            if (pending.Length > 0)
            {
                await WriteAsync(context, pending, cancellation);
            }

            script.OnTokenSent?.Invoke(i);
        }

        var timings = Timings(promptTokens, sent);
        var finishChunk = Chunk(id, new JsonObject(), finish);
        if (!includeUsage || Options.OmitUsage)
        {
            finishChunk["timings"] = timings;
        }

        pending.Append(Event(finishChunk));
        if (includeUsage && !Options.OmitUsage)
        {
            var usage = Chunk(id, null, null);
            usage["choices"] = new JsonArray();
            usage["usage"] = new JsonObject { ["completion_tokens"] = sent, ["prompt_tokens"] = promptTokens, ["total_tokens"] = sent + promptTokens };
            usage["timings"] = timings;
            pending.Append(Event(usage));
        }

        pending.Append("data: [DONE]\n\n");
        await WriteAsync(context, pending, cancellation);
    }

    private static JsonObject? DeltaFor(SimToken token, SimFlavour flavour, string toolId, string toolName, ref bool toolStarted)
    {
        switch (flavour)
        {
            case SimFlavour.Raw:
                return new JsonObject { ["content"] = token.RawText };
            case SimFlavour.Stripped:
                var visible = token.RawText.StartsWith("<|", StringComparison.Ordinal) ? string.Empty : token.RawText;
                return visible.Length == 0 ? null : new JsonObject { ["content"] = visible };
        }

        switch (token.Kind)
        {
            case "reasoning":
                return new JsonObject { ["reasoning_content"] = token.Text };
            case "content":
                return new JsonObject { ["content"] = token.Text };
            case "tool":
                var call = new JsonObject { ["index"] = 0 };
                if (!toolStarted)
                {
                    toolStarted = true;
                    call["id"] = toolId;
                    call["type"] = "function";
                    call["function"] = new JsonObject { ["name"] = toolName, ["arguments"] = token.Text };
                }
                else
                {
                    call["function"] = new JsonObject { ["arguments"] = token.Text };
                }

                return new JsonObject { ["tool_calls"] = new JsonArray(call) };
            default:
                return null;
        }
    }

    private static List<SimToken> BuildTokens(JsonObject request, SimScript script, SimFlavour flavour, out string toolName)
    {
        toolName = "tool";
        if (script.RawText is not null)
        {
            return Transcripts.Tokenize(script.RawText).Select(token => new SimToken(token, "raw", token, 0)).ToList();
        }

        var messages = Transcripts.For(request, script.Transcript);
        toolName = messages.FirstOrDefault(message => message.Recipient is not null)?.Recipient?["functions.".Length..] ?? "tool";
        return flavour == SimFlavour.Parsed
            ? Transcripts.Structured(messages).ToList()
            : Transcripts.Tokenize(Transcripts.Render(messages)).Select(token => new SimToken(token, "raw", token, 0)).ToList();
    }

    private async Task WriteWholeAsync(HttpContext context, List<SimToken> tokens, SimFlavour flavour, string finish, int promptTokens, string toolName)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        if (flavour == SimFlavour.Parsed)
        {
            var reasoning = string.Concat(tokens.Where(token => token.Kind == "reasoning").Select(token => token.Text));
            var content = string.Concat(tokens.Where(token => token.Kind == "content").Select(token => token.Text));
            var arguments = string.Concat(tokens.Where(token => token.Kind == "tool").Select(token => token.Text));
            if (reasoning.Length > 0)
            {
                message["reasoning_content"] = reasoning;
            }

            message["content"] = content.Length > 0 ? content : null;
            if (arguments.Length > 0)
            {
                message["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = toolName, ["arguments"] = arguments },
                    ["id"] = RandomString(32),
                });
            }
        }
        else
        {
            message["content"] = string.Concat(tokens.Select(token => flavour == SimFlavour.Stripped && token.RawText.StartsWith("<|", StringComparison.Ordinal) ? string.Empty : token.RawText));
        }

        var body = new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject { ["finish_reason"] = finish, ["index"] = 0, ["message"] = message }),
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = Options.Model,
            ["system_fingerprint"] = Fingerprint,
            ["object"] = "chat.completion",
            ["usage"] = new JsonObject { ["completion_tokens"] = tokens.Count, ["prompt_tokens"] = promptTokens, ["total_tokens"] = tokens.Count + promptTokens },
            ["id"] = "chatcmpl-" + RandomString(32),
            ["timings"] = Timings(promptTokens, tokens.Count),
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(Compact), context.RequestAborted);
    }

    private JsonObject Chunk(string id, JsonObject? delta, string? finish)
    {
        var chunk = new JsonObject();
        if (delta is not null)
        {
            chunk["choices"] = new JsonArray(new JsonObject { ["finish_reason"] = finish, ["index"] = 0, ["delta"] = delta });
        }

        chunk["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        chunk["id"] = id;
        chunk["model"] = Options.Model;
        chunk["system_fingerprint"] = Fingerprint;
        chunk["object"] = "chat.completion.chunk";
        return chunk;
    }

    private static string Event(JsonObject payload) => "data: " + payload.ToJsonString(Compact) + "\n\n";

    private static async Task WriteAsync(HttpContext context, StringBuilder pending, CancellationToken cancellation)
    {
        await context.Response.WriteAsync(pending.ToString(), cancellation);
        await context.Response.Body.FlushAsync(cancellation);
        pending.Clear();
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string message, string type)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(Error(message, type, status).ToJsonString(Compact), context.RequestAborted);
    }

    private static string ErrorType(int code) => code switch
    {
        400 => "invalid_request_error",
        503 => "unavailable_error",
        _ => "server_error",
    };

    private static JsonObject Error(string message, string type, int code) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["type"] = type } };

    private static JsonObject Timings(int promptTokens, int predicted) => new()
    {
        ["cache_n"] = 0,
        ["prompt_n"] = promptTokens,
        ["prompt_ms"] = promptTokens * 0.5,
        ["predicted_n"] = predicted,
        ["predicted_ms"] = predicted * 20.0,
    };

    /// <summary>The gpt-oss template's checks on assistant history, as the exception text it raises.</summary>
    private static string? TemplateProblem(JsonObject request)
    {
        foreach (var message in request["messages"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            if (message["role"]?.GetValue<string>() != "assistant")
            {
                continue;
            }

            var content = message["content"] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : string.Empty;
            var thinking = message["reasoning_content"] ?? message["thinking"];
            if (message["tool_calls"] is JsonArray { Count: > 0 } && content.Length > 0 && thinking is JsonValue thinkingText && thinkingText.GetValueKind() == JsonValueKind.String && thinkingText.GetValue<string>().Length > 0)
            {
                return ThinkingWithContentMessage;
            }

            if (content.Contains("<|channel|>analysis<|message|>", StringComparison.Ordinal) || content.Contains("<|channel|>final<|message|>", StringComparison.Ordinal))
            {
                return TagsInContentMessage;
            }
        }

        return null;
    }

    private string PropsJson() => new JsonObject
    {
        ["default_generation_settings"] = new JsonObject { ["n_ctx"] = Options.ContextSize, ["params"] = new JsonObject { ["n_predict"] = -1 } },
        ["total_slots"] = Options.TotalSlots,
        ["model_alias"] = Options.Model,
        ["model_path"] = "/models/" + Options.Model + "-mxfp4.gguf",
        ["modalities"] = new JsonObject { ["vision"] = false, ["audio"] = false },
        ["chat_template"] = Options.ChatTemplate,
        ["chat_template_caps"] = new JsonObject { ["supports_tools"] = true, ["supports_parallel_tool_calls"] = false },
        ["bos_token"] = "<|startoftext|>",
        ["eos_token"] = "<|return|>",
        ["build_info"] = Options.BuildInfo,
        ["is_sleeping"] = false,
    }.ToJsonString(Compact);

    private string ModelsJson() => new JsonObject
    {
        ["object"] = "list",
        ["data"] = new JsonArray(JsonSerializer.SerializeToNode(ModelEntry(), Compact)),
    }.ToJsonString(Compact);

    private Dictionary<string, object> ModelEntry() => new()
    {
        ["id"] = Options.Model,
        ["object"] = "model",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["owned_by"] = "llamacpp",
        ["meta"] = new Dictionary<string, object> { ["vocab_type"] = 2, ["n_vocab"] = 201088, ["n_ctx_train"] = 131072 },
    };

    private static string RandomString(int length)
    {
        const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        return string.Create(length, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
            }
        });
    }
}
