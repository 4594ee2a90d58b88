using Microsoft.Extensions.Options;

namespace HarmonyProxy.Security;

/// <summary>The <c>HarmonyProxy:Security</c> settings: who may call, how often, and what an error may tell.</summary>
internal sealed class SecurityOptions
{
    public const string SectionName = "HarmonyProxy:Security";

    /// <summary>Accepted client keys (<c>HARMONY_PROXY_API_KEYS</c>, comma-separated); empty: no key needed.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A file with one accepted key per line (<c>HARMONY_PROXY_API_KEYS_FILE</c>).</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>When set, <c>/metrics</c> needs <c>Authorization: Bearer</c> with this token (<c>METRICS_BEARER_TOKEN</c>).</summary>
    public string? MetricsBearerToken { get; set; }

    /// <summary>Requests per minute per client (per key, or per IP when no keys are set); 0 turns it off.</summary>
    [SettingRange("HarmonyProxy:Security:RequestsPerMinutePerClient", "0 (off) or positive", Minimum = 0)]
    public int RequestsPerMinutePerClient { get; set; } = 600;

    /// <summary>Requests in flight per client; 0 turns it off.</summary>
    [SettingRange("HarmonyProxy:Security:ConcurrentRequestsPerClient", "0 (off) or positive", Minimum = 0)]
    public int ConcurrentRequestsPerClient { get; set; } = 16;

    /// <summary>Include connection details (upstream host and port, exception text) in error bodies. Off: they go to the log only.</summary>
    public bool ExposeUpstreamErrorDetails { get; set; }
}

/// <summary>The ranges of <see cref="SecurityOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class SecurityOptionsValidator : IValidateOptions<SecurityOptions>;
