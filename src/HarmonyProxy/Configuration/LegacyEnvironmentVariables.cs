using Microsoft.Extensions.Configuration.Memory;

namespace HarmonyProxy.Configuration;

/// <summary>
/// The Python predecessor's environment variables, mapped onto this service's settings so
/// existing deployments keep working. Added after the standard sources, so they win.
/// </summary>
internal static class LegacyEnvironmentVariables
{
    private static readonly (string Variable, string Key)[] Map =
    [
        ("UPSTREAM_BASE_URL", "HarmonyProxy:Upstream:BaseUrl"),
        ("UPSTREAM_API_KEY", "HarmonyProxy:Upstream:ApiKey"),
        ("CONNECT_TIMEOUT", "HarmonyProxy:Upstream:ConnectTimeoutSeconds"),
        ("READ_TIMEOUT", "HarmonyProxy:Upstream:ReadTimeoutSeconds"),
        ("NO_FINAL_TIMEOUT", "HarmonyProxy:Upstream:NoVisibleOutputTimeoutSeconds"),
        ("MAX_RETRIES", "HarmonyProxy:Upstream:MaxRetries"),
        ("RETRY_BACKOFF_SECONDS", "HarmonyProxy:Upstream:RetryBackoffSeconds"),
        ("PROXY_MODE", "HarmonyProxy:Output:ProxyMode"),
        ("METRICS_ENABLED", "HarmonyProxy:Metrics:Enabled"),
        ("HARMONY_STOPS_ENABLED", "HarmonyProxy:Requests:HarmonyStopsEnabled"),
        ("LOG_LEVEL", "Serilog:MinimumLevel:Default"),
        ("UPSTREAM_API_KEY_FILE", "HarmonyProxy:Upstream:ApiKeyFile"),
        ("HARMONY_PROXY_API_KEYS_FILE", "HarmonyProxy:Security:ApiKeysFile"),
        ("METRICS_BEARER_TOKEN", "HarmonyProxy:Security:MetricsBearerToken"),
        ("DRAIN_SECONDS", "HarmonyProxy:Shutdown:DrainSeconds"),
        ("DATA_PROTECTION_KEYS_DIR", "HarmonyProxy:Responses:KeysDirectory"),
        ("REASONING_MEMORY_ENABLED", "HarmonyProxy:ReasoningMemory:Enabled"),
        ("REASONING_MEMORY_REDIS", "HarmonyProxy:ReasoningMemory:Redis"),
        ("UPSTREAM_BACKENDS_DNS", "HarmonyProxy:Upstream:BackendsDns"),
    ];

    public static IConfigurationBuilder AddLegacyEnvironmentVariables(this IConfigurationBuilder builder, Func<string, string?>? read = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        read ??= Environment.GetEnvironmentVariable;
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, key) in Map)
        {
            if (read(variable) is { Length: > 0 } value)
            {
                values[key] = key.EndsWith("MinimumLevel:Default", StringComparison.Ordinal) ? NormalizeLevel(value) : value;
            }
        }

        AddList(values, read("EXTRA_STOP_SEQUENCES"), "HarmonyProxy:Requests:ExtraStopSequences");
        AddList(values, read("HARMONY_PROXY_API_KEYS"), "HarmonyProxy:Security:ApiKeys");
        AddList(values, read("CORS_ALLOWED_ORIGINS"), "HarmonyProxy:Cors:AllowedOrigins");
        AddList(values, read("UPSTREAM_BACKENDS"), "HarmonyProxy:Upstream:Backends");

        builder.Add(new MemoryConfigurationSource { InitialData = values });
        return builder;
    }

    private static void AddList(Dictionary<string, string?> values, string? commaSeparated, string key)
    {
        if (string.IsNullOrEmpty(commaSeparated))
        {
            return;
        }

        var index = 0;
        foreach (var item in commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            values[$"{key}:{index++}"] = item;
        }
    }

    /// <summary>Python's level names (WARNING, CRITICAL) in Serilog's terms.</summary>
    private static string NormalizeLevel(string value) => value.Trim().ToUpperInvariant() switch
    {
        "TRACE" or "VERBOSE" => "Verbose",
        "DEBUG" => "Debug",
        "INFO" or "INFORMATION" => "Information",
        "WARN" or "WARNING" => "Warning",
        "ERROR" => "Error",
        "CRITICAL" or "FATAL" => "Fatal",
        _ => value,
    };
}
