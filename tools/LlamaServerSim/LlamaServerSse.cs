using System.Text;

namespace LlamaServerSim;

/// <summary>
/// llama-server's SSE framing, in one place for the simulator and the tests that build upstream
/// bodies by hand: one <c>data:</c> line per line of the payload, a blank line after each event,
/// and <c>data: [DONE]</c> at the end of a stream.
/// </summary>
public static class LlamaServerSse
{
    public const string Done = "data: [DONE]\n\n";

    /// <summary>One event; a payload of several lines becomes several <c>data:</c> lines, as SSE requires.</summary>
    public static string Event(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.Contains('\n', StringComparison.Ordinal))
        {
            return "data: " + data + "\n\n";
        }

        var framed = new StringBuilder();
        foreach (var line in data.Split('\n'))
        {
            framed.Append("data: ").Append(line).Append('\n');
        }

        return framed.Append('\n').ToString();
    }

    /// <summary>A body of events, without <c>[DONE]</c> (add <see cref="Done"/> where llama-server would).</summary>
    public static string Body(IEnumerable<string> events) => string.Concat(events.Select(Event));
}
