using System.Text;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>
/// What a client made of an OpenAI SSE stream, with the stream's framing checked on the way:
/// role first, exactly one finish, usage after it, <c>[DONE]</c> last.
/// </summary>
internal sealed class ClientStream
{
    public List<JsonObject> Chunks { get; } = [];

    public string? Content { get; private set; }

    public string? Reasoning { get; private set; }

    public List<(string Id, string Name, string Arguments)> ToolCalls { get; } = [];

    public string? FinishReason { get; private set; }

    public JsonObject? Usage { get; private set; }

    public JsonObject? Error { get; private set; }

    public int FinishChunks { get; private set; }

    public bool EndedWithDone { get; private set; }

    public static ClientStream Parse(string sse)
    {
        var stream = new ClientStream();
        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var arguments = new Dictionary<int, StringBuilder>();
        var sawContent = false;
        var sawReasoning = false;
        var events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < events.Length; i++)
        {
            var line = events[i];
            if (line.StartsWith(':'))
            {
                continue;
            }

            Assert.StartsWith("data: ", line);
            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                Assert.Equal(events.Length - 1, i);
                stream.EndedWithDone = true;
                continue;
            }

            var chunk = JsonNode.Parse(data)!.AsObject();
            if (chunk["error"] is JsonObject error)
            {
                stream.Error = error;
                continue;
            }

            stream.Chunks.Add(chunk);
            Assert.Equal("chat.completion.chunk", chunk["object"]!.GetValue<string>());
            var choices = chunk["choices"]!.AsArray();
            if (choices.Count == 0)
            {
                Assert.Equal(1, stream.FinishChunks);
                stream.Usage = chunk["usage"]!.AsObject();
                continue;
            }

            var choice = choices[0]!.AsObject();
            var delta = choice["delta"]!.AsObject();
            if (stream.Chunks.Count == 1)
            {
                Assert.Equal("assistant", delta["role"]!.GetValue<string>());
            }

            if (choice["finish_reason"] is JsonValue finish)
            {
                stream.FinishChunks++;
                stream.FinishReason = finish.GetValue<string>();
            }
            else
            {
                Assert.Equal(0, stream.FinishChunks);
            }

            if (delta["content"] is JsonValue text && stream.Chunks.Count > 1)
            {
                sawContent = true;
                content.Append(text.GetValue<string>());
            }

            if (delta["reasoning_content"] is JsonValue thought)
            {
                sawReasoning = true;
                reasoning.Append(thought.GetValue<string>());
            }

            if (delta["tool_calls"] is JsonArray calls)
            {
                foreach (var call in calls.OfType<JsonObject>())
                {
                    var index = call["index"]!.GetValue<int>();
                    if (call["id"] is JsonValue id)
                    {
                        Assert.Equal(stream.ToolCalls.Count, index);
                        Assert.Equal("function", call["type"]!.GetValue<string>());
                        stream.ToolCalls.Add((id.GetValue<string>(), call["function"]!["name"]!.GetValue<string>(), string.Empty));
                        arguments[index] = new StringBuilder();
                    }

                    arguments[index].Append(call["function"]?["arguments"]?.GetValue<string>());
                }
            }
        }

        stream.Content = sawContent ? content.ToString() : null;
        stream.Reasoning = sawReasoning ? reasoning.ToString() : null;
        for (var i = 0; i < stream.ToolCalls.Count; i++)
        {
            stream.ToolCalls[i] = stream.ToolCalls[i] with { Arguments = arguments[i].ToString() };
        }

        Assert.True(stream.EndedWithDone, "the stream must end with data: [DONE]");
        Assert.True(stream.Error is not null ^ stream.FinishChunks == 1, "exactly one finish chunk, or one error event");
        return stream;
    }
}
