using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;

namespace HarmonyProxy.LoadTest;

/// <summary>
/// <c>agents --url URL [--conversations 40] [--turns 8] [--label name]</c>: an agent-like workload.
/// Every conversation starts with the same long system prompt and tools, then its own task, and
/// each turn sends the whole history back a tool result longer, as IDE agents do; all
/// conversations run at once. Reports requests ok and failed (before or after output), prompt
/// tokens, the tokens llama-server found in its prompt cache (its usage's <c>cached_tokens</c>),
/// the tokens it had to process, the cache-hit ratio and time to first token p50/p99.
/// </summary>
internal static class AgentWorkload
{
    private static readonly string SystemPrompt = string.Concat(Enumerable.Range(0, 120).Select(i => $"Rule {i}: keep edits small, run the tests, explain each change briefly. "));
    private const string Tools = """[{"type":"function","function":{"name":"read_file","description":"Read a file","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}}]""";

    public static async Task<int> RunAsync(Dictionary<string, string> options)
    {
        var url = options.GetValueOrDefault("url", "http://127.0.0.1:18400") + "/v1/chat/completions";
        var conversations = int.Parse(options.GetValueOrDefault("conversations", "40"), CultureInfo.InvariantCulture);
        var turns = int.Parse(options.GetValueOrDefault("turns", "8"), CultureInfo.InvariantCulture);
        var label = options.GetValueOrDefault("label", "agents");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(5) };
        var results = new List<TurnResult>[conversations];
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, conversations), new ParallelOptions { MaxDegreeOfParallelism = conversations }, async (i, _) =>
            results[i] = await ConverseAsync(http, url, i, turns));

        var all = results.SelectMany(r => r).ToList();
        var ok = all.Where(r => r.Ok).ToList();
        long prompt = ok.Sum(r => r.PromptTokens), cached = ok.Sum(r => r.CachedTokens);
        var firstTokens = ok.Select(r => r.FirstTokenMs).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: requests ok={ok.Count} failed_before_output={all.Count(r => !r.Ok && !r.OutputStarted)} failed_after_output={all.Count(r => !r.Ok && r.OutputStarted)} prompt_tokens={prompt} cached_tokens={cached} processed_tokens={prompt - cached} cache_hit={(prompt == 0 ? 0 : (double)cached / prompt):P1} ttft_ms p50={Percentile(firstTokens, 0.5):F0} p99={Percentile(firstTokens, 0.99):F0} wall_s={Stopwatch.GetElapsedTime(started).TotalSeconds:F1}"));
        return all.All(r => r.Ok || r.OutputStarted) ? 0 : 1;
    }

    private static async Task<List<TurnResult>> ConverseAsync(HttpClient http, string url, int conversation, int turns)
    {
        var messages = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = SystemPrompt },
            new JsonObject { ["role"] = "user", ["content"] = $"Task {conversation}: fix issue #{conversation * 17 % 997} in module {conversation % 7}. " + new string((char)('a' + (conversation % 26)), 400) });
        var results = new List<TurnResult>();
        for (var turn = 0; turn < turns; turn++)
        {
            var (result, assistant) = await TurnAsync(http, url, messages);
            results.Add(result);
            if (assistant is null)
            {
                continue;
            }

            messages.Add(assistant);
            var callId = assistant["tool_calls"]?[0]?["id"]?.GetValue<string>();
            messages.Add(callId is not null
                ? new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = $"File contents, turn {turn} of task {conversation}: " + string.Concat(Enumerable.Repeat($"line {turn}-{conversation}; ", 120)) }
                : new JsonObject { ["role"] = "user", ["content"] = $"Continue with step {turn + 1}." });
        }

        return results;
    }

    private static async Task<(TurnResult Result, JsonObject? Assistant)> TurnAsync(HttpClient http, string url, JsonArray messages)
    {
        var result = new TurnResult();
        var start = Stopwatch.GetTimestamp();
        var body = new JsonObject { ["model"] = "gpt-oss-20b", ["stream"] = true, ["stream_options"] = new JsonObject { ["include_usage"] = true }, ["messages"] = messages.DeepClone(), ["tools"] = JsonNode.Parse(Tools) };
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                return (result, null);
            }

            var content = new StringBuilder();
            string? callId = null, callName = null;
            var arguments = new StringBuilder();
            await using var stream = await response.Content.ReadAsStreamAsync();
            await foreach (var item in SseParser.Create(stream).EnumerateAsync())
            {
                if (item.Data == "[DONE]")
                {
                    result.Ok = true;
                    break;
                }

                var chunk = JsonNode.Parse(item.Data)!;
                if (chunk["error"] is not null)
                {
                    break;
                }

                if (chunk["usage"] is JsonObject usage)
                {
                    result.PromptTokens = usage["prompt_tokens"]?.GetValue<long>() ?? 0;
                    result.CachedTokens = usage["prompt_tokens_details"]?["cached_tokens"]?.GetValue<long>() ?? 0;
                }

                if (chunk["choices"] is not JsonArray { Count: > 0 } choices || choices[0]?["delta"] is not JsonObject delta)
                {
                    continue;
                }

                var text = delta["content"]?.GetValue<string>();
                var call = delta["tool_calls"] is JsonArray { Count: > 0 } calls ? calls[0] : null;
                if (!result.OutputStarted && (!string.IsNullOrEmpty(text) || delta["reasoning_content"] is not null || call is not null))
                {
                    result.OutputStarted = true;
                    result.FirstTokenMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                content.Append(text);
                callId ??= call?["id"]?.GetValue<string>();
                callName ??= call?["function"]?["name"]?.GetValue<string>();
                arguments.Append(call?["function"]?["arguments"]?.GetValue<string>());
            }

            if (!result.Ok)
            {
                return (result, null);
            }

            var assistant = callId is not null
                ? new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = callId, ["type"] = "function", ["function"] = new JsonObject { ["name"] = callName, ["arguments"] = arguments.ToString() } }) }
                : new JsonObject { ["role"] = "assistant", ["content"] = content.ToString() };
            return (result, assistant);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return (result, null);
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private sealed class TurnResult
    {
        public bool Ok { get; set; }

        public bool OutputStarted { get; set; }

        public double FirstTokenMs { get; set; }

        public long PromptTokens { get; set; }

        public long CachedTokens { get; set; }
    }
}
