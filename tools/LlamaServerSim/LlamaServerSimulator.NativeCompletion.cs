using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace LlamaServerSim;

/// <summary>
/// llama-server's own text completion (<c>POST /completion</c>, llama-server.md §4): a raw prompt
/// in, raw text out, <c>{"content":…,"stop":false}</c> per token and a last event with
/// <c>"stop":true</c>, no <c>[DONE]</c>. A prompt that <c>/apply-template</c> rendered, followed by
/// the start of the assistant's turn, is continued with the rest of that conversation's
/// transcript, so a client sees the turn go on where it stopped.
/// </summary>
public sealed partial class LlamaServerSimulator
{
    private const string AssistantStart = "<|start|>assistant";

    /// <summary>What <c>/apply-template</c> rendered, and the chat request it rendered.</summary>
    private readonly ConcurrentDictionary<string, JsonObject> _rendered = new(StringComparer.Ordinal);

    /// <summary>The prompt as llama-server's gpt-oss template renders it for generation: the history, then the assistant's turn begun.</summary>
    private string RenderForContinuation(JsonObject request)
    {
        var prompt = SimPromptCache.Render(request) + AssistantStart;
        _rendered[prompt] = (JsonObject)request.DeepClone();
        return prompt;
    }

    private async Task NativeCompletionAsync(HttpContext context, JsonObject request)
    {
        var prompt = request["prompt"]?.GetValue<string>() ?? string.Empty;
        var rendered = _rendered.Keys.Where(key => prompt.StartsWith(key, StringComparison.Ordinal)).MaxBy(key => key.Length);
        var produced = rendered is null ? string.Empty : prompt[rendered.Length..];
        var transcript = rendered is null ? "<|channel|>final<|message|>Hello world" : Transcripts.Render(Transcripts.For(_rendered[rendered], null));
        var rest = transcript.StartsWith(produced, StringComparison.Ordinal) ? transcript[produced.Length..] : transcript;
        var stopType = "eos";
        foreach (var stop in (request["stop"] as JsonArray ?? []).Select(node => node?.GetValue<string>()).OfType<string>())
        {
            var at = rest.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                rest = rest[..at];
                stopType = "word";
            }
        }

        var tokens = Transcripts.Tokenize(rest).ToList();
        var evaluated = Math.Max(1, prompt.Length / 4);
        if (request["stream"]?.GetValue<bool>() != true)
        {
            await Json(context, Final(rest, tokens.Count, evaluated, stopType));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < tokens.Count; i++)
        {
            var chunk = new JsonObject { ["index"] = 0, ["content"] = tokens[i], ["tokens"] = new JsonArray(), ["stop"] = false, ["id_slot"] = 0, ["tokens_predicted"] = i + 1, ["tokens_evaluated"] = evaluated };
            await context.Response.WriteAsync(LlamaServerSse.Event(chunk.ToJsonString(Compact)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await context.Response.WriteAsync(LlamaServerSse.Event(Final(string.Empty, tokens.Count, evaluated, stopType).ToJsonString(Compact)), context.RequestAborted);
    }

    private JsonObject Final(string content, int predicted, int evaluated, string stopType) => new()
    {
        ["index"] = 0,
        ["content"] = content,
        ["tokens"] = new JsonArray(),
        ["id_slot"] = 0,
        ["stop"] = true,
        ["model"] = Options.Model,
        ["tokens_predicted"] = predicted,
        ["tokens_evaluated"] = evaluated,
        ["stop_type"] = stopType,
        ["stopping_word"] = string.Empty,
    };
}
