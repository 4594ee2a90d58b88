using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>
/// Plays an IDE agent through the simulator's shell task (two tool calls, then an answer, then a
/// follow-up question): each step it sends the whole history back, carrying the reasoning it was
/// shown the way its <c>dialect</c> does (or not at all).
/// </summary>
internal static class ToolLoopClient
{
    public const string Tools = """[{"type":"function","function":{"name":"exec_command","parameters":{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]}}}]""";

    /// <summary>Each client's way of sending reasoning back on an assistant message (null: it does not).</summary>
    public static Action<JsonObject, string>? Dialect(string name) => name switch
    {
        "reasoning_content" or "reasoning" or "thinking" => (message, text) => message[name] = text,
        "reasoning_details" => (message, text) => message["reasoning_details"] = new JsonArray(new JsonObject { ["type"] = "reasoning.text", ["text"] = text }),
        "think_tags" => (message, text) => message["content"] = $"<think>\n{text}\n</think>\n\n",
        _ => null,
    };

    /// <summary>Runs the four requests; returns the final answer the client got.</summary>
    public static async Task<string> RunAsync(HttpClient http, Action<JsonObject, string>? dialect, IReadOnlyDictionary<string, string>? headers = null)
    {
        var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Write proof.txt and read it back." });
        string? answer = null;
        for (var step = 0; step < 3; step++)
        {
            var message = await PostAsync(http, messages, headers);
            if (message["tool_calls"] is not JsonArray calls)
            {
                answer = message["content"]!.GetValue<string>();
                messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = answer });
                break;
            }

            var assistant = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = calls.DeepClone() };
            if (dialect is not null && message["reasoning_content"] is JsonValue reasoning)
            {
                dialect(assistant, reasoning.GetValue<string>());
            }

            messages.Add(assistant);
            messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = calls[0]!["id"]!.DeepClone(), ["content"] = "harmony-proxy" });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = "Thanks. What next?" });
        await PostAsync(http, messages, headers);
        return answer ?? throw new InvalidOperationException("The loop never answered.");
    }

    /// <summary>What llama-server received as reasoning on each assistant message of request <paramref name="index"/>.</summary>
    public static IReadOnlyList<string?> ReasoningSent(LlamaServerSimulator simulator, int index) =>
        simulator.Requests.ElementAt(index)["messages"]!.AsArray()
            .Where(message => message!["role"]!.GetValue<string>() == "assistant")
            .Select(message => message!["reasoning_content"]?.GetValue<string>())
            .ToList();

    private static async Task<JsonObject> PostAsync(HttpClient http, JsonArray messages, IReadOnlyDictionary<string, string>? headers)
    {
        var body = new JsonObject { ["model"] = "gpt-oss-20b", ["stream"] = false, ["messages"] = messages.DeepClone(), ["tools"] = JsonNode.Parse(Tools) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")) };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text)!["choices"]![0]!["message"]!.AsObject();
    }
}
