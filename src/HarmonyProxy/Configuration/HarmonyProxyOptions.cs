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

    public ResponsesSettings Responses { get; set; } = new();

    public ReasoningMemorySettings ReasoningMemory { get; set; } = new();

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

internal sealed class ReasoningMemorySettings
{
    /// <summary>Restore the reasoning of tool-call turns that a client's history lacks (<c>REASONING_MEMORY_ENABLED</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Entries kept at most in this process (reasoning per tool call, stored responses); the least recently used go first.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>The most bytes the entries hold together in this process; on Redis, the largest one entry may be.</summary>
    public long MaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long an entry lives.</summary>
    public double MaxAgeMinutes { get; set; } = 120;

    /// <summary>A Redis connection string (<c>host:port,password=…</c>) to share the store, and the Data Protection keys, between replicas (<c>REASONING_MEMORY_REDIS</c>); empty: in-process.</summary>
    public string? Redis { get; set; }

    /// <summary>The longest a request waits for Redis before going on without it.</summary>
    public int RedisTimeoutMilliseconds { get; set; } = 200;
}

internal sealed class ResponsesSettings
{
    /// <summary>How long an <c>encrypted_content</c> reasoning blob can be read back.</summary>
    public double EncryptedReasoningHours { get; set; } = 24;

    /// <summary>
    /// Where the Data Protection keys that seal reasoning live (<c>DATA_PROTECTION_KEYS_DIR</c>): a
    /// directory every replica mounts; empty: ASP.NET Core's default per-user key folder.
    /// </summary>
    public string? KeysDirectory { get; set; }
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

internal sealed class UpstreamOptions
{
    /// <summary>llama-server's OpenAI base URL; <c>/v1</c> is added when missing.</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:8080/v1";

    /// <summary>
    /// Several llama-servers behind one endpoint (<c>UPSTREAM_BACKENDS</c>, comma-separated); empty:
    /// <see cref="BaseUrl"/> alone. Llama-server's other routes and the readiness probe use the first.
    /// </summary>
    public List<string> Backends { get; set; } = [];

    /// <summary>
    /// A URL whose host is a DNS name with one address per llama-server (a Kubernetes headless
    /// Service: <c>http://llama-server:8080/v1</c>), resolved with YARP's DNS destination resolver
    /// and again every <see cref="DnsRefreshSeconds"/> (<c>UPSTREAM_BACKENDS_DNS</c>); used instead of <see cref="Backends"/>.
    /// </summary>
    public string? BackendsDns { get; set; }

    /// <summary>How often <see cref="BackendsDns"/> is resolved again.</summary>
    public double DnsRefreshSeconds { get; set; } = 30;

    /// <summary>Requests in flight to one backend at most; 0: its <c>total_slots</c> from <c>/props</c> once read (several backends), else <see cref="MaxConcurrentRequests"/>.</summary>
    public int SlotsPerBackend { get; set; }

    /// <summary>Keep a conversation on one backend (its prompt cache); false: the least loaded backend, in turn (round robin when idle).</summary>
    public bool Affinity { get; set; } = true;

    /// <summary>With several backends: how often each one's <c>/props</c> (slots) and, while ejected, <c>/health</c> are probed.</summary>
    public double BackendProbeSeconds { get; set; } = 5;

    /// <summary>Sent as <c>Authorization: Bearer</c> to llama-server when set (its <c>--api-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>A file holding the upstream key (a Kubernetes secret mount); used when <see cref="ApiKey"/> is empty.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>The most bytes one upstream SSE line or event (or a non-streamed completion) may hold; more ends the attempt (a hostile or broken upstream).</summary>
    public int MaxUpstreamEventBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>TCP connect timeout (<c>CONNECT_TIMEOUT</c>).</summary>
    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Longest silence between upstream events once streaming (<c>READ_TIMEOUT</c>).</summary>
    public double ReadTimeoutSeconds { get; set; } = 300;

    /// <summary>Retries after the first attempt (<c>MAX_RETRIES</c>).</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay, doubled each time (<c>RETRY_BACKOFF_SECONDS</c>).</summary>
    public double RetryBackoffSeconds { get; set; } = 0.5;

    /// <summary>Longest wait for llama-server's response headers per attempt; it sends them with the first token, after prompt processing, which can take minutes.</summary>
    public double FirstByteTimeoutSeconds { get; set; } = 600;

    /// <summary>Longest time hidden reasoning may run without visible text or a tool call (<c>NO_FINAL_TIMEOUT</c>); catches reasoning loops.</summary>
    public double NoVisibleOutputTimeoutSeconds { get; set; } = 600;

    /// <summary>Ceiling for a whole request, retries included.</summary>
    public double TotalTimeoutSeconds { get; set; } = 1800;

    /// <summary>A streaming client that has been sent nothing for this long gets an SSE comment (<c>: keep-alive</c>).</summary>
    public double KeepAliveSeconds { get; set; } = 15;

    /// <summary>Concurrent requests to llama-server (match its <c>-np</c> slots); more wait in a queue.</summary>
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>Requests that may wait for a slot; beyond this they get 429 with Retry-After.</summary>
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Failure ratio over <see cref="CircuitBreakerSamplingSeconds"/> that opens the circuit breaker.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Requests needed in the sampling window before the breaker may open.</summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 10;

    public double CircuitBreakerSamplingSeconds { get; set; } = 30;

    /// <summary>How long the breaker stays open: requests fail fast with 503 meanwhile.</summary>
    public double CircuitBreakerBreakSeconds { get; set; } = 15;

    /// <summary>Time a readiness probe may take (retries included).</summary>
    public double ReadinessTimeoutSeconds { get; set; } = 3;

    /// <summary>A probe result is reused this long, so frequent probes do not hammer llama-server.</summary>
    public double ReadinessCacheSeconds { get; set; } = 5;

    /// <summary><c>props</c>: <c>/health</c> then <c>/props</c> (loading state, build, model, slots, template), <c>/v1/models</c> when there is no <c>/props</c>; <c>models</c>: <c>/v1/models</c>, then <c>/health</c>.</summary>
    public string ReadinessProbe { get; set; } = "props";

    /// <summary>Probe llama-server from start-up until it is ready, and log what was found in one line.</summary>
    public bool StartupReport { get; set; } = true;

    /// <summary>The upstream URL with <c>/v1</c> and a trailing slash, ready for relative paths.</summary>
    public Uri ApiBaseUri() => ApiBaseUri(Backends.Count > 0 ? Backends[0] : BaseUrl);

    /// <summary>Every backend's API base (<see cref="Backends"/>, else <see cref="BaseUrl"/>).</summary>
    public IReadOnlyList<Uri> BackendUris() =>
        !string.IsNullOrEmpty(BackendsDns) ? [ApiBaseUri(BackendsDns)]
        : Backends.Count > 0 ? Backends.Select(ApiBaseUri).ToList()
        : [ApiBaseUri(BaseUrl)];

    /// <summary>True when requests may go to more than one backend (a list, or a DNS name with several addresses).</summary>
    public bool SeveralBackends => Backends.Count > 1 || !string.IsNullOrEmpty(BackendsDns);

    private static Uri ApiBaseUri(string baseUrl)
    {
        var text = baseUrl.TrimEnd('/');
        if (!text.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            text += "/v1";
        }

        return new Uri(text + "/");
    }
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
