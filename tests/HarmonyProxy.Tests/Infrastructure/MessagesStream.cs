using System.Text;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>An Anthropic Messages SSE body assembled into the message it describes, as Anthropic's SDKs do.</summary>
internal static class MessagesStream
{
    public static JsonObject Assemble(string sse)
    {
        JsonObject? message = null;
        var partialJson = new Dictionary<int, StringBuilder>();
        foreach (var block in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var data = block.Split('\n').FirstOrDefault(line => line.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..];
            if (data is null)
            {
                continue;
            }

            var streamed = JsonNode.Parse(data)!.AsObject();
            switch (streamed["type"]!.GetValue<string>())
            {
                case "message_start":
                    message = streamed["message"]!.DeepClone().AsObject();
                    break;
                case "content_block_start":
                    message!["content"]!.AsArray().Add(streamed["content_block"]!.DeepClone());
                    break;
                case "content_block_delta":
                    var index = streamed["index"]!.GetValue<int>();
                    var target = message!["content"]![index]!.AsObject();
                    var delta = streamed["delta"]!;
                    switch (delta["type"]!.GetValue<string>())
                    {
                        case "text_delta":
                            target["text"] = target["text"]!.GetValue<string>() + delta["text"]!.GetValue<string>();
                            break;
                        case "thinking_delta":
                            target["thinking"] = target["thinking"]!.GetValue<string>() + delta["thinking"]!.GetValue<string>();
                            break;
                        case "signature_delta":
                            target["signature"] = delta["signature"]!.GetValue<string>();
                            break;
                        case "input_json_delta":
                            (partialJson.TryGetValue(index, out var json) ? json : partialJson[index] = new StringBuilder()).Append(delta["partial_json"]!.GetValue<string>());
                            break;
                    }

                    break;
                case "content_block_stop":
                    var stopped = streamed["index"]!.GetValue<int>();
                    if (partialJson.TryGetValue(stopped, out var input))
                    {
                        message!["content"]![stopped]!["input"] = JsonNode.Parse(input.ToString());
                    }

                    break;
                case "message_delta":
                    message!["stop_reason"] = streamed["delta"]!["stop_reason"]!.DeepClone();
                    message["usage"] = streamed["usage"]!.DeepClone();
                    break;
                case "error":
                    throw new InvalidOperationException("The stream ended with an error: " + data);
            }
        }

        return message ?? throw new InvalidOperationException("No message_start in: " + sse);
    }
}
