using HarmonyProxy.Completions;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// Output options for one request: the deployment's, then the client profile's (unless the
/// deployment set the predecessor's <c>PROXY_MODE</c>), then the request's headers.
/// </summary>
internal static class OutputOptionsResolver
{
    public static OutputOptions FromSettings(OutputDefaults settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.ProxyMode) && OutputOptions.TryParseLegacyMode(settings.ProxyMode, out var legacy))
        {
            return legacy;
        }

        // Values were validated at start-up; an unknown one falls back to the default.
        return new OutputOptions(
            OutputOptions.TryParseReasoning(settings.Reasoning, out var reasoning) ? reasoning : OutputOptions.Default.Reasoning,
            OutputOptions.TryParseToolCalls(settings.ToolCalls, out var toolCalls) ? toolCalls : OutputOptions.Default.ToolCalls);
    }

    public static bool TryResolve(OutputDefaults settings, IHeaderDictionary headers, out OutputOptions options, out string? problem) =>
        TryResolve(settings, profile: null, headers, out options, out problem);

    public static bool TryResolve(OutputDefaults settings, ClientProfile? profile, IHeaderDictionary headers, out OutputOptions options, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(settings);
        options = FromSettings(settings);
        problem = null;
        if (profile is not null && string.IsNullOrWhiteSpace(settings.ProxyMode))
        {
            if (OutputOptions.TryParseReasoning(profile.Reasoning, out var profileReasoning))
            {
                options = options with { Reasoning = profileReasoning };
            }

            if (OutputOptions.TryParseToolCalls(profile.ToolCalls, out var profileToolCalls))
            {
                options = options with { ToolCalls = profileToolCalls };
            }
        }

        if (headers.TryGetValue(OutputOptions.ModeHeader, out var mode))
        {
            if (!OutputOptions.TryParseLegacyMode(mode, out var legacy))
            {
                problem = $"{OutputOptions.ModeHeader} must be final_only, final_plus_tools_text, openai_tool_calls or kilocode; got '{mode}'.";
                return false;
            }

            options = legacy;
        }

        if (headers.TryGetValue(OutputOptions.ReasoningHeader, out var reasoningValue))
        {
            if (!OutputOptions.TryParseReasoning(reasoningValue, out var reasoning))
            {
                problem = $"{OutputOptions.ReasoningHeader} must be none, reasoning_content, think_tags, reasoning or both; got '{reasoningValue}'.";
                return false;
            }

            options = options with { Reasoning = reasoning };
        }

        if (headers.TryGetValue(OutputOptions.ToolCallsHeader, out var toolValue))
        {
            if (!OutputOptions.TryParseToolCalls(toolValue, out var toolCalls))
            {
                problem = $"{OutputOptions.ToolCallsHeader} must be native, text or drop; got '{toolValue}'.";
                return false;
            }

            options = options with { ToolCalls = toolCalls };
        }

        return true;
    }
}
