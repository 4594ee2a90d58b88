using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>A Responses API SSE body read back: each event's <c>event:</c> name and its data object.</summary>
internal sealed record ResponsesStream(IReadOnlyList<(string Name, JsonObject Data)> Events)
{
    public static ResponsesStream Parse(string text)
    {
        var events = new List<(string, JsonObject)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            var name = lines.FirstOrDefault(line => line.StartsWith("event: ", StringComparison.Ordinal))?["event: ".Length..];
            var data = lines.FirstOrDefault(line => line.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..];
            if (name is not null && data is not null)
            {
                events.Add((name, JsonNode.Parse(data)!.AsObject()));
            }
        }

        return new ResponsesStream(events);
    }

    public IEnumerable<string> Names => Events.Select(e => e.Name);

    /// <summary>The response object of the last <c>response.*</c> lifecycle event (completed, incomplete, failed).</summary>
    public JsonObject Final => Events.Last(e => e.Data["response"] is JsonObject).Data["response"]!.AsObject();

    /// <summary>A Responses request body.</summary>
    public static StringContent Body(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
}
