using HarmonyProxy.Completions;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// The <c>HarmonyProxy:Output</c> settings: the deployment's output for every request, which a
/// client's profile and then the request's <c>X-Harmony-*</c> headers override
/// (<see cref="OutputOptionsResolver"/>).
/// </summary>
internal sealed class OutputDefaults
{
    public const string SectionName = "HarmonyProxy:Output";

    /// <summary><c>none</c> | <c>reasoning_content</c> | <c>think_tags</c> | <c>reasoning</c> | <c>both</c>.</summary>
    public string Reasoning { get; set; } = "reasoning_content";

    /// <summary><c>native</c> | <c>text</c> | <c>drop</c>.</summary>
    public string ToolCalls { get; set; } = "native";

    /// <summary>The predecessor's <c>PROXY_MODE</c>; when set it decides both options above.</summary>
    public string? ProxyMode { get; set; }
}

/// <summary>Each output setting names a known choice.</summary>
internal sealed class OutputDefaultsRules : IValidateOptions<OutputDefaults>
{
    public ValidateOptionsResult Validate(string? name, OutputDefaults options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!OutputOptions.TryParseReasoning(options.Reasoning, out _))
        {
            errors.Add($"HarmonyProxy:Output:Reasoning must be none, reasoning_content, think_tags, reasoning or both; got '{options.Reasoning}'.");
        }

        if (!OutputOptions.TryParseToolCalls(options.ToolCalls, out _))
        {
            errors.Add($"HarmonyProxy:Output:ToolCalls must be native, text or drop; got '{options.ToolCalls}'.");
        }

        if (!string.IsNullOrWhiteSpace(options.ProxyMode) && !OutputOptions.TryParseLegacyMode(options.ProxyMode, out _))
        {
            errors.Add($"PROXY_MODE must be final_only, final_plus_tools_text, openai_tool_calls or kilocode; got '{options.ProxyMode}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
