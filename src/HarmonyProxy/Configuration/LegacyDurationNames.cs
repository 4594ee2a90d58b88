using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace HarmonyProxy.Configuration;

/// <summary>
/// Durations are <see cref="TimeSpan"/> settings (<c>Upstream:ReadTimeout = 00:05:00</c>); their
/// earlier names counted a unit (<c>Upstream:ReadTimeoutSeconds = 300</c>, and
/// <c>READ_TIMEOUT</c> through <see cref="LegacyEnvironmentVariables"/>) and keep working. The
/// name set by the source of higher precedence wins, whichever spelling it is, so an environment
/// variable in the old spelling still overrides <c>appsettings.json</c> in the new one.
/// </summary>
internal static class LegacyDurationNames
{
    /// <summary>Old name → (new name, the old name's unit), under <c>HarmonyProxy:</c>.</summary>
    public static readonly IReadOnlyDictionary<string, (string Current, TimeSpan Unit)> Map = new Dictionary<string, (string, TimeSpan)>(StringComparer.OrdinalIgnoreCase)
    {
        ["HarmonyProxy:Upstream:DnsRefreshSeconds"] = ("HarmonyProxy:Upstream:DnsRefreshInterval", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:BackendProbeSeconds"] = ("HarmonyProxy:Upstream:BackendProbeInterval", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:ConnectTimeoutSeconds"] = ("HarmonyProxy:Upstream:ConnectTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:ReadTimeoutSeconds"] = ("HarmonyProxy:Upstream:ReadTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:RetryBackoffSeconds"] = ("HarmonyProxy:Upstream:RetryBackoff", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:FirstByteTimeoutSeconds"] = ("HarmonyProxy:Upstream:FirstByteTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:NoVisibleOutputTimeoutSeconds"] = ("HarmonyProxy:Upstream:NoVisibleOutputTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:TotalTimeoutSeconds"] = ("HarmonyProxy:Upstream:TotalTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:KeepAliveSeconds"] = ("HarmonyProxy:Upstream:KeepAlive", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:CircuitBreakerSamplingSeconds"] = ("HarmonyProxy:Upstream:CircuitBreakerSampling", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:CircuitBreakerBreakSeconds"] = ("HarmonyProxy:Upstream:CircuitBreakerBreak", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:ReadinessTimeoutSeconds"] = ("HarmonyProxy:Upstream:ReadinessTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Upstream:ReadinessCacheSeconds"] = ("HarmonyProxy:Upstream:ReadinessCache", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:Shutdown:DrainSeconds"] = ("HarmonyProxy:Shutdown:DrainTimeout", TimeSpan.FromSeconds(1)),
        ["HarmonyProxy:ReasoningMemory:MaxAgeMinutes"] = ("HarmonyProxy:ReasoningMemory:MaxAge", TimeSpan.FromMinutes(1)),
        ["HarmonyProxy:ReasoningMemory:RedisTimeoutMilliseconds"] = ("HarmonyProxy:ReasoningMemory:RedisTimeout", TimeSpan.FromMilliseconds(1)),
        ["HarmonyProxy:Responses:EncryptedReasoningHours"] = ("HarmonyProxy:Responses:EncryptedReasoningLifetime", TimeSpan.FromHours(1)),
    };

    private static readonly Dictionary<string, (string Legacy, TimeSpan Unit)> ByCurrent =
        Map.ToDictionary(pair => pair.Value.Current, pair => (pair.Key, pair.Value.Unit), StringComparer.OrdinalIgnoreCase);

    /// <summary>Answers a duration's new name from its old one; added last, so it sees every other source.</summary>
    public static IConfigurationBuilder AddLegacyDurationNames(this IConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new Source());
    }

    /// <summary>The old name's value as a duration (<c>300</c> seconds → <c>00:05:00</c>); a value that is no number is passed on as it is, for the binder to name.</summary>
    public static string ToDuration(string legacyValue, TimeSpan unit) =>
        double.TryParse(legacyValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var count) && double.IsFinite(count)
        && Math.Abs(count * unit.TotalMilliseconds) < TimeSpan.MaxValue.TotalMilliseconds
            ? TimeSpan.FromMilliseconds(count * unit.TotalMilliseconds).ToString("c", CultureInfo.InvariantCulture)
            : legacyValue;

    private sealed class Source : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(builder as IConfigurationRoot);
    }

    /// <summary>
    /// Reads the other providers of the same configuration (a <see cref="ConfigurationManager"/>,
    /// as every host here builds), newest first: the first that holds either name decides.
    /// </summary>
    private sealed class Provider(IConfigurationRoot? root) : IConfigurationProvider
    {
        public bool TryGet(string key, [NotNullWhen(true)] out string? value)
        {
            value = null;
            if (root is null || !ByCurrent.TryGetValue(key, out var legacy))
            {
                return false;
            }

            foreach (var provider in root.Providers.Reverse())
            {
                if (ReferenceEquals(provider, this))
                {
                    continue;
                }

                if (provider.TryGet(key, out _))
                {
                    return false;
                }

                if (provider.TryGet(legacy.Legacy, out var old) && old is not null)
                {
                    value = ToDuration(old, legacy.Unit);
                    return true;
                }
            }

            return false;
        }

        public void Set(string key, string? value)
        {
            // Read-only: a change is made under either name in the source that holds it.
        }

        public IChangeToken GetReloadToken() => NullChangeToken.Singleton;

        public void Load()
        {
            // Nothing to load: every answer is read from the other sources when asked.
        }

        public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => earlierKeys;
    }
}
