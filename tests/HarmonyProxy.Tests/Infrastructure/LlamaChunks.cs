using System.Text;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>llama-server chunk JSON, in its exact framing (llama-server.md §1.2), for golden inputs.</summary>
internal static class LlamaChunks
{
    private const string Envelope = "\"created\":1761672368,\"id\":\"chatcmpl-vHnyyi5Z6RRKTtbLzBj23g4Hf8jOhXs5\",\"model\":\"openai/gpt-oss-20b\",\"system_fingerprint\":\"b6865-1c1409e13\",\"object\":\"chat.completion.chunk\"";

    public static string Role() => Delta("{\"role\":\"assistant\",\"content\":null}");

    public static string Content(string text) => Delta("{\"content\":" + Quote(text) + "}");

    public static string Reasoning(string text) => Delta("{\"reasoning_content\":" + Quote(text) + "}");

    public static string ToolCallStart(string name, string arguments, int index = 0) =>
        Delta($"{{\"tool_calls\":[{{\"index\":{index},\"id\":\"tNkZIM2wWGCzRoFvK6X0TdhHhAYj6fVY\",\"type\":\"function\",\"function\":{{\"name\":{Quote(name)},\"arguments\":{Quote(arguments)}}}}}]}}");

    public static string ToolCallArguments(string arguments, int index = 0) =>
        Delta($"{{\"tool_calls\":[{{\"index\":{index},\"function\":{{\"arguments\":{Quote(arguments)}}}}}]}}");

    public static string Finish(string reason) =>
        "{\"choices\":[{\"finish_reason\":\"" + reason + "\",\"index\":0,\"delta\":{}}]," + Envelope + "}";

    public static string Usage(int prompt = 139, int completion = 41) =>
        "{\"choices\":[]," + Envelope + $",\"usage\":{{\"completion_tokens\":{completion},\"prompt_tokens\":{prompt},\"total_tokens\":{prompt + completion}}},\"timings\":{{\"prompt_n\":{prompt}}}}}";

    public static string Error(string message) =>
        "{\"error\":{\"code\":500,\"message\":" + Quote(message) + ",\"type\":\"server_error\"}}";

    public static string Done => "[DONE]";

    /// <summary>Raw Harmony text split into token-sized content deltas (tags whole, words with their space).</summary>
    public static IEnumerable<string> RawContent(string raw) => Tokens(raw).Select(Content);

    public static IEnumerable<string> Tokens(string raw)
    {
        var current = new StringBuilder();
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '<' && i + 1 < raw.Length && raw[i + 1] == '|')
            {
                var end = raw.IndexOf("|>", i + 2, StringComparison.Ordinal);
                if (end > 0)
                {
                    if (current.Length > 0)
                    {
                        yield return current.ToString();
                        current.Clear();
                    }

                    yield return raw[i..(end + 2)];
                    i = end + 1;
                    continue;
                }
            }

            if (raw[i] == ' ' && current.Length > 0)
            {
                yield return current.ToString();
                current.Clear();
            }

            current.Append(raw[i]);
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    /// <summary>A whole llama-server SSE body.</summary>
    public static string Sse(IEnumerable<string> events) => LlamaServerSim.LlamaServerSse.Body(events);

    /// <summary>A complete raw-flavour stream: role, content tokens, finish, optional usage, [DONE].</summary>
    public static string[] RawStream(string raw, string finish = "stop", bool usage = true) =>
        [Role(), .. RawContent(raw), Finish(finish), .. usage ? new[] { Usage() } : [], Done];

    private static string Delta(string delta) =>
        "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":" + delta + "}]," + Envelope + "}";

    private static string Quote(string text) => JsonValue.Create(text).ToJsonString();
}
