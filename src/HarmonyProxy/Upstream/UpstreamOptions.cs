namespace HarmonyProxy.Upstream;

/// <summary>
/// The <c>HarmonyProxy:Upstream</c> settings. Durations are <see cref="TimeSpan"/>s
/// (<c>00:05:00</c>); their earlier names in seconds keep working (<c>Configuration/LegacyDurationNames</c>).
/// Ranges are checked by the options validation source generator
/// (<see cref="UpstreamOptionsValidator"/>), rules across settings by <see cref="UpstreamOptionsRules"/>.
/// </summary>
internal sealed class UpstreamOptions
{
    public const string SectionName = "HarmonyProxy:Upstream";

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
    /// and again every <see cref="DnsRefreshInterval"/> (<c>UPSTREAM_BACKENDS_DNS</c>); used instead of <see cref="Backends"/>.
    /// </summary>
    public string? BackendsDns { get; set; }

    /// <summary>How often <see cref="BackendsDns"/> is resolved again.</summary>
    [SettingRange("HarmonyProxy:Upstream:DnsRefreshInterval (DnsRefreshSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan DnsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests in flight to one backend at most; 0: its <c>total_slots</c> from <c>/props</c> once read (several backends), else <see cref="MaxConcurrentRequests"/>.</summary>
    [SettingRange("HarmonyProxy:Upstream:SlotsPerBackend", "0 (from /props) or positive", Minimum = 0)]
    public int SlotsPerBackend { get; set; }

    /// <summary>Keep a conversation on one backend (its prompt cache); false: the least loaded backend, in turn (round robin when idle).</summary>
    public bool Affinity { get; set; } = true;

    /// <summary>With several backends: how often every one's <c>/health</c> is probed (a failure ejects it) and its <c>/props</c> (slots) read.</summary>
    [SettingRange("HarmonyProxy:Upstream:BackendProbeInterval (BackendProbeSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan BackendProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sent as <c>Authorization: Bearer</c> to llama-server when set (its <c>--api-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>A file holding the upstream key (a Kubernetes secret mount); used when <see cref="ApiKey"/> is empty.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>The most bytes one upstream SSE line or event (or a non-streamed completion) may hold; more ends the attempt (a hostile or broken upstream).</summary>
    [SettingRange("HarmonyProxy:Upstream:MaxUpstreamEventBytes", "at least 1024 bytes", Minimum = 1024)]
    public int MaxUpstreamEventBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>TCP connect timeout (<c>CONNECT_TIMEOUT</c>).</summary>
    [SettingRange("HarmonyProxy:Upstream:ConnectTimeout (CONNECT_TIMEOUT, ConnectTimeoutSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest silence between upstream events once streaming (<c>READ_TIMEOUT</c>).</summary>
    [SettingRange("HarmonyProxy:Upstream:ReadTimeout (READ_TIMEOUT, ReadTimeoutSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Retries after the first attempt (<c>MAX_RETRIES</c>).</summary>
    [SettingRange("HarmonyProxy:Upstream:MaxRetries (MAX_RETRIES)", "between 0 and 10", Minimum = 0, Maximum = 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay, doubled each time (<c>RETRY_BACKOFF_SECONDS</c>).</summary>
    [SettingRange("HarmonyProxy:Upstream:RetryBackoff (RETRY_BACKOFF_SECONDS, RetryBackoffSeconds)", "between 0 and 60 seconds", Minimum = 0, Maximum = 60)]
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait for llama-server's response headers per attempt; it sends them with the first token, after prompt processing, which can take minutes.</summary>
    [SettingRange("HarmonyProxy:Upstream:FirstByteTimeout (FirstByteTimeoutSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan FirstByteTimeout { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>Longest time hidden reasoning may run without visible text or a tool call (<c>NO_FINAL_TIMEOUT</c>); catches reasoning loops.</summary>
    [SettingRange("HarmonyProxy:Upstream:NoVisibleOutputTimeout (NO_FINAL_TIMEOUT, NoVisibleOutputTimeoutSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan NoVisibleOutputTimeout { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>Ceiling for a whole request, retries included.</summary>
    [SettingRange("HarmonyProxy:Upstream:TotalTimeout (TotalTimeoutSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(1800);

    /// <summary>A streaming client that has been sent nothing for this long gets an SSE comment (<c>: keep-alive</c>).</summary>
    [SettingRange("HarmonyProxy:Upstream:KeepAlive (KeepAliveSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Concurrent requests to llama-server (match its <c>-np</c> slots); more wait in a queue.</summary>
    [SettingRange("HarmonyProxy:Upstream:MaxConcurrentRequests", "at least 1", Minimum = 1)]
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>Requests that may wait for a slot; beyond this they get 429 with Retry-After.</summary>
    [SettingRange("HarmonyProxy:Upstream:MaxQueuedRequests", "at least 0", Minimum = 0)]
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Failure ratio over <see cref="CircuitBreakerSampling"/> that opens the circuit breaker.</summary>
    [SettingRange("HarmonyProxy:Upstream:CircuitBreakerFailureRatio", "in (0, 1]", MinimumExcluded = true, Minimum = 0, Maximum = 1)]
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Requests needed in the sampling window before the breaker may open.</summary>
    [SettingRange("HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput", "at least 2", Minimum = 2)]
    public int CircuitBreakerMinimumThroughput { get; set; } = 10;

    [SettingRange("HarmonyProxy:Upstream:CircuitBreakerSampling (CircuitBreakerSamplingSeconds)", "at least half a second", Minimum = 0.5)]
    public TimeSpan CircuitBreakerSampling { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the breaker stays open: requests fail fast with 503 meanwhile.</summary>
    [SettingRange("HarmonyProxy:Upstream:CircuitBreakerBreak (CircuitBreakerBreakSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan CircuitBreakerBreak { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Time a readiness probe may take (retries included).</summary>
    [SettingRange("HarmonyProxy:Upstream:ReadinessTimeout (ReadinessTimeoutSeconds)", "a positive duration", MinimumExcluded = true, Minimum = 0)]
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A probe result is reused this long, so frequent probes do not hammer llama-server.</summary>
    [SettingRange("HarmonyProxy:Upstream:ReadinessCache (ReadinessCacheSeconds)", "0 or a positive duration", Minimum = 0)]
    public TimeSpan ReadinessCache { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><c>props</c>: <c>/health</c> then <c>/props</c> (loading state, build, model, slots, template), <c>/v1/models</c> when there is no <c>/props</c>; <c>models</c>: <c>/v1/models</c>, then <c>/health</c>.</summary>
    public string ReadinessProbe { get; set; } = "props";

    /// <summary>Probe llama-server from start-up until it is ready, and log what was found in one line.</summary>
    public bool StartupReport { get; set; } = true;

    /// <summary>Read every backend's <c>/v1/models</c> each <see cref="BackendProbeInterval"/>: which models it serves (requests are routed by model once there are several) and, in router mode, each one's status.</summary>
    public bool ModelProbe { get; set; } = true;

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
