using HarmonyProxy.Memory;
using HarmonyProxy.Upstream;

namespace HarmonyProxy.Configuration;

/// <summary>
/// Every setting, bound from the <c>HarmonyProxy</c> section of <c>appsettings.json</c> and
/// overridable by environment (<c>HarmonyProxy__Upstream__BaseUrl</c>, or the predecessor's
/// names such as <c>UPSTREAM_BASE_URL</c>, see <see cref="LegacyEnvironmentVariables"/>).
/// Defaults here equal those in <c>appsettings.json</c>.
/// </summary>
internal sealed class HarmonyProxyOptions
{
    public const string SectionName = "HarmonyProxy";

    public UpstreamOptions Upstream { get; set; } = new();

    public OutputSettings Output { get; set; } = new();

    public RequestSettings Requests { get; set; } = new();

    public ParserSettings Parser { get; set; } = new();

    public MetricsSettings Metrics { get; set; } = new();

    public SecuritySettings Security { get; set; } = new();

    public CorsSettings Cors { get; set; } = new();

    public ShutdownSettings Shutdown { get; set; } = new();

    public ResponsesOptions Responses { get; set; } = new();

    public ReasoningMemoryOptions ReasoningMemory { get; set; } = new();

    public LoopGuardSettings LoopGuard { get; set; } = new();

    public ClientSettings Clients { get; set; } = new();
}

internal sealed class ClientSettings
{
    /// <summary>Client profiles, first match wins; the built-in ones are in <c>appsettings.json</c>.</summary>
    public List<ClientProfile> Profiles { get; set; } = [];
}

/// <summary>
/// A client recognised by what it sends, and the output it suits. It matches when the user agent
/// contains <see cref="UserAgentContains"/> or any of <see cref="Headers"/> is present and starts
/// with its value (an empty value: present at all); comparisons ignore case.
/// </summary>
internal sealed class ClientProfile
{
    public string Name { get; set; } = string.Empty;

    public string? UserAgentContains { get; set; }

    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The reasoning option for this client (none, reasoning_content, think_tags, reasoning, both); empty: the deployment's.</summary>
    public string? Reasoning { get; set; }

    /// <summary>The tool-call option for this client (native, text, drop); empty: the deployment's.</summary>
    public string? ToolCalls { get; set; }
}

internal sealed class LoopGuardSettings
{
    /// <summary>A history ending with the same tool call this many times in a row is counted and logged.</summary>
    public int RepeatedToolCallThreshold { get; set; } = 3;

    /// <summary>The length, in characters, of the piece of reasoning whose repeats are counted; 0 turns the in-stream guard off.</summary>
    public int ReasoningRepeatChars { get; set; } = 64;

    /// <summary>A generation whose hidden reasoning holds the same piece this many times, before any visible output, is ended.</summary>
    public int ReasoningRepeatCount { get; set; } = 8;
}

internal sealed class ShutdownSettings
{
    /// <summary>On SIGTERM, open completions may finish for this long before they are ended cleanly (<c>DRAIN_SECONDS</c>).</summary>
    public double DrainSeconds { get; set; } = 25;
}

internal sealed class CorsSettings
{
    /// <summary>Browser origins (<c>https://app.example.com</c>) allowed to call the proxy (<c>CORS_ALLOWED_ORIGINS</c>, comma-separated); empty: CORS off.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

internal sealed class OutputSettings
{
    /// <summary><c>none</c> | <c>reasoning_content</c> | <c>think_tags</c>.</summary>
    public string Reasoning { get; set; } = "reasoning_content";

    /// <summary><c>native</c> | <c>text</c> | <c>drop</c>.</summary>
    public string ToolCalls { get; set; } = "native";

    /// <summary>The predecessor's <c>PROXY_MODE</c>; when set it decides both options above.</summary>
    public string? ProxyMode { get; set; }
}

internal sealed class RequestSettings
{
    /// <summary>Add <c>&lt;|return|&gt;</c> and <c>&lt;|call|&gt;</c> to <c>stop</c> (<c>HARMONY_STOPS_ENABLED</c>).</summary>
    public bool HarmonyStopsEnabled { get; set; } = true;

    /// <summary>More stop strings for every request (<c>EXTRA_STOP_SEQUENCES</c>, comma-separated).</summary>
    public List<string> ExtraStopSequences { get; set; } = [];

    /// <summary>Reduce assistant history that holds Harmony markup to its final text.</summary>
    public bool CleanHistory { get; set; } = true;

    /// <summary>Reasoning effort for requests that name none (<c>low</c>, <c>medium</c>, <c>high</c>), written into <c>chat_template_kwargs</c>; null leaves llama-server's default.</summary>
    public string? DefaultReasoningEffort { get; set; }

    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;
}

internal sealed class ParserSettings
{
    /// <summary>Most header or header-less text the parser holds before releasing it.</summary>
    public int MaxHeaderChars { get; set; } = 4096;
}

internal sealed class MetricsSettings
{
    /// <summary>Serve <c>/metrics</c> (<c>METRICS_ENABLED</c>).</summary>
    public bool Enabled { get; set; } = true;
}

internal sealed class SecuritySettings
{
    /// <summary>Accepted client keys (<c>HARMONY_PROXY_API_KEYS</c>, comma-separated); empty: no key needed.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A file with one accepted key per line (<c>HARMONY_PROXY_API_KEYS_FILE</c>).</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>When set, <c>/metrics</c> needs <c>Authorization: Bearer</c> with this token (<c>METRICS_BEARER_TOKEN</c>).</summary>
    public string? MetricsBearerToken { get; set; }

    /// <summary>Requests per minute per client (per key, or per IP when no keys are set); 0 turns it off.</summary>
    public int RequestsPerMinutePerClient { get; set; } = 600;

    /// <summary>Requests in flight per client; 0 turns it off.</summary>
    public int ConcurrentRequestsPerClient { get; set; } = 16;

    /// <summary>Include connection details (upstream host and port, exception text) in error bodies. Off: they go to the log only.</summary>
    public bool ExposeUpstreamErrorDetails { get; set; }
}
