using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Connections.Features;

namespace LlamaServerSim;

/// <summary>
/// A llama-server look-alike for gpt-oss: <c>/health</c>, <c>/v1/models</c> and
/// <c>/v1/chat/completions</c> with llama-server's exact framing (llama-server.md §1): a role
/// chunk with <c>content: null</c> sent with the first token, one delta per token, a finish
/// chunk, the usage chunk when asked, <c>timings</c> on the last chunk, <c>[DONE]</c>. It
/// replays transcripts in any flavour at a set token rate, with injectable faults.
/// </summary>
public sealed partial class LlamaServerSimulator : IAsyncDisposable
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
    private readonly SimPromptCache _promptCache = new();
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
        app.MapGet("/v1/models", (HttpContext context) => Options.Ready ? Results.Text(Options.RouterModels is null ? ModelsJson() : RouterModelsJson(), "application/json") : LoadingModel(context));
        app.MapGet("/models", (HttpContext context) => Options.Ready ? Results.Text(Options.RouterModels is null ? ModelsJson() : RouterModelsJson(), "application/json") : LoadingModel(context));
        app.MapGet("/v1/models/{id}", (string id) => id == Options.Model
            ? Results.Text(JsonSerializer.Serialize(ModelEntry(), Compact), "application/json")
            : Results.Json(Error("File Not Found", "not_found_error", 404), statusCode: 404));
        app.MapGet("/props", (HttpContext context) => !Options.PropsAvailable
            ? Results.Json(Error("File Not Found", "not_found_error", 404), statusCode: 404)
            : Options.RouterModels is not null ? RouterProps(context)
            : Options.Ready ? Results.Text(PropsJson(), "application/json") : LoadingModel(context));
        app.MapPost("/v1/chat/completions", ChatAsync);
        app.MapPost("/chat/completions", ChatAsync);
        MapOtherRoutes(app);
        app.MapGet("/_sim/stats", () => Results.Json(new { requests = ChatRequestCount, open_streams = OpenStreams, client_disconnects = ClientDisconnects }));
        app.MapFallback(() => Results.Json(Error("File Not Found", "not_found_error", 404), statusCode: 404));
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
        if (Options.RouterModels is not null && !RouteToModel(request["model"]?.GetValue<string>()))
        {
            await WriteErrorAsync(context, 400, $"model '{request["model"]}' not found", "invalid_request_error");
            return;
        }

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
        var prompt = new SimPrompt(promptTokens, Options.PromptCache ? _promptCache.Reuse(request, Options.TotalSlots) : 0);
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
            context.Response.ContentType = script.RawContentType ?? (stream ? "text/event-stream" : "application/json; charset=utf-8");
            await context.Response.Body.WriteAsync(rawBody, context.RequestAborted);
            return;
        }

        if (Options.PromptTokensPerSecond > 0)
        {
            // Prompt processing: only what the slot's cache did not already hold.
            await Task.Delay(TimeSpan.FromSeconds((prompt.Tokens - prompt.Cached) / Options.PromptTokensPerSecond), context.RequestAborted);
        }

        if (!stream)
        {
            await WriteWholeAsync(context, tokens, flavour, finish, prompt, toolName);
            return;
        }

        Interlocked.Increment(ref _openStreams);
        try
        {
            await StreamAsync(context, script, tokens, flavour, finish, includeUsage, prompt, toolName);
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

    /// <summary>The usage object: prompt tokens with the cached part when the prompt cache is modelled.</summary>
    private static JsonObject Usage(SimPrompt prompt, int completion)
    {
        var usage = new JsonObject { ["completion_tokens"] = completion, ["prompt_tokens"] = prompt.Tokens, ["total_tokens"] = completion + prompt.Tokens };
        if (prompt.Cached > 0)
        {
            usage["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = prompt.Cached };
        }

        return usage;
    }

    private static JsonObject Error(string message, string type, int code) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["type"] = type } };

    private static JsonObject Timings(SimPrompt prompt, int predicted) => new()
    {
        ["cache_n"] = prompt.Cached,
        ["prompt_n"] = prompt.Tokens - prompt.Cached,
        ["prompt_ms"] = (prompt.Tokens - prompt.Cached) * 0.5,
        ["predicted_n"] = predicted,
        ["predicted_ms"] = predicted * 20.0,
    };

}
