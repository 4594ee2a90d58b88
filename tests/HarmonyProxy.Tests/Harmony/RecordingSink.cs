using System.Text;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Tests.Harmony;

/// <summary>Records parser events as strings; merges consecutive text events.</summary>
internal sealed class RecordingSink : IHarmonyEventSink
{
    private readonly StringBuilder _text = new();

    public List<string> Events { get; } = [];

    public string Text => _text.ToString();

    public void OnMessageStart(HarmonyMessageHeader header) =>
        Events.Add($"start {header.Channel}|{header.Recipient}|{header.ContentType}|{header.Origin}");

    public void OnText(ReadOnlySpan<char> text)
    {
        _text.Append(text);
        if (Events.Count > 0 && Events[^1].StartsWith("text ", StringComparison.Ordinal))
        {
            Events[^1] += text.ToString();
        }
        else
        {
            Events.Add("text " + text.ToString());
        }
    }

    public void OnMessageEnd(HarmonyMessageEnd end) => Events.Add($"end {end}");

    public void OnStreamEnd(bool truncated) => Events.Add($"stream-end {truncated}");
}
