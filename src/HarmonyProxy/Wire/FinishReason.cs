namespace HarmonyProxy.Wire;

/// <summary>
/// Why a completion ended, in OpenAI's vocabulary: the only four values a client is ever sent,
/// whatever upstream said. Each owns its name and its JSON bytes.
/// </summary>
internal sealed class FinishReason
{
    public static readonly FinishReason Stop = new("stop", "\"stop\""u8.ToArray());
    public static readonly FinishReason Length = new("length", "\"length\""u8.ToArray());
    public static readonly FinishReason ToolCalls = new("tool_calls", "\"tool_calls\""u8.ToArray());
    public static readonly FinishReason ContentFilter = new("content_filter", "\"content_filter\""u8.ToArray());

    private readonly byte[] _json;

    private FinishReason(string name, byte[] json)
    {
        Name = name;
        _json = json;
    }

    public string Name { get; }

    /// <summary>The name as a JSON string, quotes included.</summary>
    public ReadOnlySpan<byte> Json => _json;

    /// <summary>True when the answer was cut short (the client may want to continue or raise a limit).</summary>
    public bool IsCut => this == Length || this == ContentFilter;

    public override string ToString() => Name;
}
