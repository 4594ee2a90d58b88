using HarmonyProxy.Completions;
using Microsoft.Extensions.Options;
using HarmonyProxy.Requests;

namespace HarmonyProxy.Configuration;

/// <summary>Checks every setting at start-up and names each bad one with its value.</summary>
internal sealed class HarmonyProxyOptionsValidator : IValidateOptions<HarmonyProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, HarmonyProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var upstream = options.Upstream;

        if (!Uri.TryCreate(upstream.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            errors.Add($"HarmonyProxy:Upstream:BaseUrl (UPSTREAM_BASE_URL) must be an absolute http(s) URL; got '{upstream.BaseUrl}'.");
        }

        foreach (var backend in upstream.Backends)
        {
            if (!Uri.TryCreate(backend, UriKind.Absolute, out var backendUri) || backendUri.Scheme is not ("http" or "https"))
            {
                errors.Add($"HarmonyProxy:Upstream:Backends (UPSTREAM_BACKENDS) must hold absolute http(s) URLs; got '{backend}'.");
            }
        }

        if (upstream.SlotsPerBackend < 0)
        {
            errors.Add($"HarmonyProxy:Upstream:SlotsPerBackend must be 0 (from /props) or positive; got {upstream.SlotsPerBackend}.");
        }

        Positive(errors, "HarmonyProxy:Upstream:BackendProbeSeconds", upstream.BackendProbeSeconds);
        Positive(errors, "HarmonyProxy:Upstream:DnsRefreshSeconds", upstream.DnsRefreshSeconds);
        if (!string.IsNullOrEmpty(upstream.BackendsDns) && (!Uri.TryCreate(upstream.BackendsDns, UriKind.Absolute, out var dnsUri) || dnsUri.Scheme is not ("http" or "https")))
        {
            errors.Add($"HarmonyProxy:Upstream:BackendsDns (UPSTREAM_BACKENDS_DNS) must be an absolute http(s) URL; got '{upstream.BackendsDns}'.");
        }

        Positive(errors, "HarmonyProxy:Upstream:ConnectTimeoutSeconds (CONNECT_TIMEOUT)", upstream.ConnectTimeoutSeconds);
        Positive(errors, "HarmonyProxy:Upstream:ReadTimeoutSeconds (READ_TIMEOUT)", upstream.ReadTimeoutSeconds);
        Positive(errors, "HarmonyProxy:Upstream:FirstByteTimeoutSeconds", upstream.FirstByteTimeoutSeconds);
        Positive(errors, "HarmonyProxy:Upstream:NoVisibleOutputTimeoutSeconds (NO_FINAL_TIMEOUT)", upstream.NoVisibleOutputTimeoutSeconds);
        Positive(errors, "HarmonyProxy:Upstream:TotalTimeoutSeconds", upstream.TotalTimeoutSeconds);
        Positive(errors, "HarmonyProxy:Upstream:KeepAliveSeconds", upstream.KeepAliveSeconds);
        Positive(errors, "HarmonyProxy:Upstream:CircuitBreakerBreakSeconds", upstream.CircuitBreakerBreakSeconds);
        Positive(errors, "HarmonyProxy:Upstream:ReadinessTimeoutSeconds", upstream.ReadinessTimeoutSeconds);
        if (upstream.ReadinessCacheSeconds < 0)
        {
            errors.Add($"HarmonyProxy:Upstream:ReadinessCacheSeconds must not be negative; got {upstream.ReadinessCacheSeconds}.");
        }

        var memory = options.ReasoningMemory;
        Positive(errors, "HarmonyProxy:ReasoningMemory:MaxEntries", memory.MaxEntries, "a positive number");
        Positive(errors, "HarmonyProxy:ReasoningMemory:MaxBytes", memory.MaxBytes, "a positive number of bytes");
        Positive(errors, "HarmonyProxy:ReasoningMemory:MaxAgeMinutes", memory.MaxAgeMinutes, "a positive number of minutes");
        Positive(errors, "HarmonyProxy:ReasoningMemory:RedisTimeoutMilliseconds", memory.RedisTimeoutMilliseconds, "a positive number of milliseconds");
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

        Positive(errors, "HarmonyProxy:Responses:EncryptedReasoningHours", options.Responses.EncryptedReasoningHours, "a positive number of hours");
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

        if (upstream.ReadinessProbe?.ToUpperInvariant() is not ("PROPS" or "MODELS"))
        {
            errors.Add($"HarmonyProxy:Upstream:ReadinessProbe must be 'props' or 'models'; got '{upstream.ReadinessProbe}'.");
        }

        if (upstream.CircuitBreakerSamplingSeconds < 0.5)
        {
            errors.Add($"HarmonyProxy:Upstream:CircuitBreakerSamplingSeconds must be at least 0.5; got {upstream.CircuitBreakerSamplingSeconds}.");
        }

        if (upstream.CircuitBreakerFailureRatio is <= 0 or > 1)
        {
            errors.Add($"HarmonyProxy:Upstream:CircuitBreakerFailureRatio must be in (0, 1]; got {upstream.CircuitBreakerFailureRatio}.");
        }

        if (upstream.CircuitBreakerMinimumThroughput < 2)
        {
            errors.Add($"HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput must be at least 2; got {upstream.CircuitBreakerMinimumThroughput}.");
        }

        if (upstream.MaxConcurrentRequests < 1 || upstream.MaxQueuedRequests < 0)
        {
            errors.Add($"HarmonyProxy:Upstream:MaxConcurrentRequests must be at least 1 and MaxQueuedRequests at least 0; got {upstream.MaxConcurrentRequests} and {upstream.MaxQueuedRequests}.");
        }

        if (upstream.TotalTimeoutSeconds < upstream.FirstByteTimeoutSeconds)
        {
            errors.Add($"HarmonyProxy:Upstream:TotalTimeoutSeconds ({upstream.TotalTimeoutSeconds}) must not be shorter than FirstByteTimeoutSeconds ({upstream.FirstByteTimeoutSeconds}).");
        }

        if (upstream.MaxRetries is < 0 or > 10)
        {
            errors.Add($"HarmonyProxy:Upstream:MaxRetries (MAX_RETRIES) must be between 0 and 10; got {upstream.MaxRetries}.");
        }

        if (upstream.RetryBackoffSeconds is < 0 or > 60 || double.IsNaN(upstream.RetryBackoffSeconds))
        {
            errors.Add($"HarmonyProxy:Upstream:RetryBackoffSeconds (RETRY_BACKOFF_SECONDS) must be between 0 and 60; got {upstream.RetryBackoffSeconds}.");
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
