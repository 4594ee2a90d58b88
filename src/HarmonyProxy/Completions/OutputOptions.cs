using HarmonyProxy.Wire;

namespace HarmonyProxy.Completions;

/// <summary>What happens to the model's chain of thought.</summary>
internal enum ReasoningMode
{
    /// <summary>Dropped.</summary>
    None,

    /// <summary>In the <c>reasoning_content</c> field (llama.cpp/DeepSeek convention; Roo, Cline, Kilo, Continue read it).</summary>
    ReasoningContent,

    /// <summary>In <c>content</c>, wrapped in <c>&lt;think&gt;…&lt;/think&gt;</c>, for clients that only read content.</summary>
    ThinkTags,

    /// <summary>In the <c>reasoning</c> field (OpenRouter and vLLM convention; Kilo reads it).</summary>
    Reasoning,

    /// <summary>In both <c>reasoning_content</c> and <c>reasoning</c>, for a mix of clients.</summary>
    Both,
}

/// <summary>What happens to Harmony tool calls.</summary>
internal enum ToolCallMode
{
    /// <summary>OpenAI <c>tool_calls</c>, streamed incrementally.</summary>
    Native,

    /// <summary>Rendered as readable text in <c>content</c>.</summary>
    Text,

    /// <summary>Dropped.</summary>
    Drop,
}

/// <summary>The output choices for one request.</summary>
internal sealed record OutputOptions(ReasoningMode Reasoning, ToolCallMode ToolCalls)
{
    public const string ReasoningHeader = "X-Harmony-Reasoning";
    public const string ToolCallsHeader = "X-Harmony-Tool-Calls";
    public const string ModeHeader = "X-Harmony-Mode";

    public static readonly OutputOptions Default = new(ReasoningMode.ReasoningContent, ToolCallMode.Native);

    /// <summary>Which calls the request lets through as tool calls (<see cref="ToolPolicy"/>); the others follow the text and drop rules.</summary>
    public ToolPolicy Tools { get; init; } = ToolPolicy.Unrestricted;

    /// <summary>The chat fields reasoning deltas go in (the modes that show no reasoning field write none).</summary>
    public ReasoningFields ReasoningFields => Reasoning switch
    {
        ReasoningMode.Reasoning => ReasoningFields.Reasoning,
        ReasoningMode.Both => ReasoningFields.ReasoningContent | ReasoningFields.Reasoning,
        _ => ReasoningFields.ReasoningContent,
    };

    public static bool TryParseReasoning(string? value, out ReasoningMode mode)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "none":
                mode = ReasoningMode.None;
                return true;
            case "reasoning_content":
                mode = ReasoningMode.ReasoningContent;
                return true;
            case "think_tags":
                mode = ReasoningMode.ThinkTags;
                return true;
            case "reasoning":
                mode = ReasoningMode.Reasoning;
                return true;
            case "both":
                mode = ReasoningMode.Both;
                return true;
            default:
                mode = default;
                return false;
        }
    }

    public static bool TryParseToolCalls(string? value, out ToolCallMode mode)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "native":
                mode = ToolCallMode.Native;
                return true;
            case "text":
                mode = ToolCallMode.Text;
                return true;
            case "drop":
                mode = ToolCallMode.Drop;
                return true;
            default:
                mode = default;
                return false;
        }
    }

    /// <summary>The predecessor's <c>PROXY_MODE</c> values expressed as the two options.</summary>
    public static bool TryParseLegacyMode(string? value, out OutputOptions options)
    {
        OutputOptions? legacy = value?.Trim().ToLowerInvariant() switch
        {
            "final_only" => new(ReasoningMode.None, ToolCallMode.Drop),
            "final_plus_tools_text" => new(ReasoningMode.None, ToolCallMode.Text),
            "openai_tool_calls" => new(ReasoningMode.None, ToolCallMode.Native),
            "kilocode" => new(ReasoningMode.ReasoningContent, ToolCallMode.Native),
            _ => null,
        };
        options = legacy ?? Default;
        return legacy is not null;
    }
}
