using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaServerSim;

/// <summary>llama-server's routes beyond chat completions and what its template and <c>/props</c> say.</summary>
public sealed partial class LlamaServerSimulator
{
    /// <summary>Every request to a route other than chat completions: its path and body, in order.</summary>
    public IReadOnlyCollection<(string Path, string Body)> OtherRequests => _otherRequests;

    /// <summary>Raised with the path of each request to a route other than chat completions, as it arrives.</summary>
    public event Action<string>? OtherRequestReceived;

    /// <summary>llama-server's routes beyond chat (llama-server.md §4): completions, embeddings, rerank, tokenize, apply-template, slots.</summary>
    private void MapOtherRoutes(WebApplication app)
    {
        foreach (var path in (string[])["/v1/completions", "/completions", "/v1/embeddings", "/embeddings", "/v1/rerank", "/rerank", "/tokenize", "/detokenize", "/apply-template", "/completion"])
        {
            app.MapPost(path, async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                _otherRequests.Enqueue((path, body));
                OtherRequestReceived?.Invoke(path);
                if (!Options.Ready)
                {
                    await WriteErrorAsync(context, 503, "Loading model", "unavailable_error");
                    return;
                }

                var request = JsonNode.Parse(body) as JsonObject ?? [];
                if (path == "/apply-template" && !Options.ApplyTemplateAvailable)
                {
                    context.Response.StatusCode = 404;
                    await context.Response.WriteAsync("File Not Found", context.RequestAborted);
                    return;
                }

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
                    // Four characters make a token, as for the prompt sizes in usage.
                    "/tokenize" => Json(context, new JsonObject { ["tokens"] = new JsonArray([.. Enumerable.Range(0, Math.Max(1, (request["content"]?.ToString().Length ?? 0) / 4)).Select(id => (JsonNode?)id)]) }),
                    "/apply-template" => Json(context, new JsonObject { ["prompt"] = RenderForContinuation(request) }),
                    "/completion" => NativeCompletionAsync(context, request),
                    _ => Json(context, new JsonObject { ["content"] = "Hello world" }),
                });
            });
        }

        // For scripts outside the test process (the Codex run): what llama-server was sent.
        app.MapGet("/sim/requests", () => Results.Json(Requests.ToArray()));

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
            await context.Response.WriteAsync(LlamaServerSse.Event(chunk.ToJsonString(Compact)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await context.Response.WriteAsync(LlamaServerSse.Done, context.RequestAborted);
    }

    private static Task Json(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(Compact), context.RequestAborted);
    }

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
