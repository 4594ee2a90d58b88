using System.Text;

namespace HarmonyProxy.Harmony;

/// <summary>One Harmony tool call of a finished turn.</summary>
/// <param name="Name">The OpenAI function name (no <c>functions.</c> prefix).</param>
/// <param name="Arguments">The body, trimmed; <c>{}</c> when empty (edge case 34).</param>
/// <param name="Complete">False when the stream was cut inside the call.</param>
internal sealed record HarmonyToolCall(string Name, string Arguments, bool Complete);

/// <summary>
/// Collects a whole turn from parser events and applies the joining rules of docs/harmony-format.md
/// section 7: visible pieces and reasoning pieces each joined with a newline.
/// </summary>
internal sealed class HarmonyTurnCollector : IHarmonyEventSink
{
    private readonly List<string> _content = [];
    private readonly List<string> _reasoning = [];
    private readonly List<HarmonyToolCall> _toolCalls = [];
    private readonly StringBuilder _body = new();
    private HarmonyMessageHeader? _current;
    private HarmonyMessageRole _role;

    /// <summary>The visible text, or null when no visible message was produced.</summary>
    public string? Content => _content.Count == 0 ? null : string.Join('\n', _content.Where(static piece => piece.Length > 0));

    public string? Reasoning => _reasoning.Count == 0 ? null : string.Join('\n', _reasoning.Where(static piece => piece.Length > 0));

    public IReadOnlyList<HarmonyToolCall> ToolCalls => _toolCalls;

    public bool Ended { get; private set; }

    public void OnMessageStart(HarmonyMessageHeader header)
    {
        _current = header;
        _role = HarmonyClassifier.Classify(header);
        _body.Clear();
    }

    public void OnText(ReadOnlySpan<char> text) => _body.Append(text);

    public void OnMessageEnd(HarmonyMessageEnd end)
    {
        if (_current is null)
        {
            return;
        }

        var text = _body.ToString();
        switch (_role)
        {
            case HarmonyMessageRole.Content:
                _content.Add(text);
                break;
            case HarmonyMessageRole.Reasoning:
                _reasoning.Add(text);
                break;
            case HarmonyMessageRole.ToolCall:
                var arguments = text.Trim();
                _toolCalls.Add(new HarmonyToolCall(
                    HarmonyClassifier.ToolName(_current.Recipient!),
                    arguments.Length == 0 ? "{}" : arguments,
                    end != HarmonyMessageEnd.Truncated));
                break;
        }

        _current = null;
        _body.Clear();
    }

    public void OnStreamEnd(bool truncated)
    {
        Ended = true;
    }

    /// <summary>Parses a whole output in one go.</summary>
    public static HarmonyTurnCollector Parse(string raw, bool truncated = false, HarmonyParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var collector = new HarmonyTurnCollector();
        var parser = new HarmonyStreamParser(collector, options);
        parser.Feed(raw);
        parser.Complete(truncated);
        return collector;
    }
}
