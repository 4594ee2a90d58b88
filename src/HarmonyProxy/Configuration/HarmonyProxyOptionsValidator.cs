using HarmonyProxy.Completions;
using HarmonyProxy.Preparation;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Configuration;

/// <summary>Checks every setting at start-up and names each bad one with its value; the upstream settings are checked by their own room (<see cref="Upstream.UpstreamOptionsValidator"/>, <see cref="Upstream.UpstreamOptionsRules"/>).</summary>
internal sealed class HarmonyProxyOptionsValidator : IValidateOptions<HarmonyProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, HarmonyProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Positive(errors, "HarmonyProxy:LoopGuard:RepeatedToolCallThreshold", options.LoopGuard.RepeatedToolCallThreshold, "a positive number");
        if (options.LoopGuard.ReasoningRepeatCount < 2)
        {
            errors.Add($"HarmonyProxy:LoopGuard:ReasoningRepeatCount must be at least 2; got {options.LoopGuard.ReasoningRepeatCount}.");
        }

        if (options.LoopGuard.ReasoningRepeatChars is < 0 or (> 0 and < 16))
        {
            errors.Add($"HarmonyProxy:LoopGuard:ReasoningRepeatChars must be 0 (off) or at least 16; got {options.LoopGuard.ReasoningRepeatChars}.");
        }

        for (var i = 0; i < options.Clients.Profiles.Count; i++)
        {
            var profile = options.Clients.Profiles[i];
            var key = $"HarmonyProxy:Clients:Profiles:{i}";
            if (string.IsNullOrWhiteSpace(profile.Name) || (string.IsNullOrEmpty(profile.UserAgentContains) && profile.Headers.Count == 0))
            {
                errors.Add($"{key} needs a Name and a match rule (UserAgentContains or Headers); got Name '{profile.Name}'.");
            }

            if (!string.IsNullOrEmpty(profile.Reasoning) && !OutputOptions.TryParseReasoning(profile.Reasoning, out _))
            {
                errors.Add($"{key}:Reasoning must be none, reasoning_content, think_tags, reasoning or both; got '{profile.Reasoning}'.");
            }

            if (!string.IsNullOrEmpty(profile.ToolCalls) && !OutputOptions.TryParseToolCalls(profile.ToolCalls, out _))
            {
                errors.Add($"{key}:ToolCalls must be native, text or drop; got '{profile.ToolCalls}'.");
            }
        }

        if (options.Requests.DefaultReasoningEffort is { Length: > 0 } effort && ReasoningEffort.Normalize(effort) is null)
        {
            errors.Add($"HarmonyProxy:Requests:DefaultReasoningEffort must be low, medium or high; got '{effort}'.");
        }

        foreach (var origin in options.Cors.AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var originUri) || originUri.Scheme is not ("http" or "https") || originUri.AbsolutePath.Length > 1)
            {
                errors.Add($"HarmonyProxy:Cors:AllowedOrigins holds '{origin}', which is not an origin (scheme, host and optional port, e.g. https://app.example.com).");
            }
        }

        if (options.Shutdown.DrainSeconds is < 0 or > 3600)
        {
            errors.Add($"HarmonyProxy:Shutdown:DrainSeconds must be between 0 and 3600; got {options.Shutdown.DrainSeconds}.");
        }

        if (!OutputOptions.TryParseReasoning(options.Output.Reasoning, out _))
        {
            errors.Add($"HarmonyProxy:Output:Reasoning must be none, reasoning_content, think_tags, reasoning or both; got '{options.Output.Reasoning}'.");
        }

        if (!OutputOptions.TryParseToolCalls(options.Output.ToolCalls, out _))
        {
            errors.Add($"HarmonyProxy:Output:ToolCalls must be native, text or drop; got '{options.Output.ToolCalls}'.");
        }

        if (!string.IsNullOrWhiteSpace(options.Output.ProxyMode) && !OutputOptions.TryParseLegacyMode(options.Output.ProxyMode, out _))
        {
            errors.Add($"PROXY_MODE must be final_only, final_plus_tools_text, openai_tool_calls or kilocode; got '{options.Output.ProxyMode}'.");
        }

        if (options.Requests.MaxRequestBodyBytes <= 0)
        {
            errors.Add($"HarmonyProxy:Requests:MaxRequestBodyBytes must be positive; got {options.Requests.MaxRequestBodyBytes}.");
        }

        if (options.Parser.MaxHeaderChars < 64)
        {
            errors.Add($"HarmonyProxy:Parser:MaxHeaderChars must be at least 64; got {options.Parser.MaxHeaderChars}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string name, double value, string what = "a positive number of seconds")
    {
        if (!(value > 0))
        {
            errors.Add($"{name} must be {what}; got {value}.");
        }
    }
}
