using HarmonyProxy.Configuration;
using HarmonyProxy.Hosting;
using HarmonyProxy.Memory;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Tests.Configuration;

/// <summary>
/// The names deployments already use keep working: the predecessor's environment variables, and
/// the durations' earlier names in a unit; where both spellings are set, the source of higher
/// precedence wins, as for any setting.
/// </summary>
public sealed class LegacySettingNamesTests
{
    [Fact]
    public void ASecondsName_SetsTheDuration()
    {
        var upstream = Upstream(("HarmonyProxy:Upstream:ReadTimeoutSeconds", "2.5"), ("HarmonyProxy:Upstream:KeepAliveSeconds", "1"));

        Assert.Equal(TimeSpan.FromMilliseconds(2500), upstream.ReadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), upstream.KeepAlive);
        Assert.Equal(new UpstreamOptions().TotalTimeout, upstream.TotalTimeout);
    }

    [Fact]
    public void EachUnit_IsItsOwn()
    {
        var configuration = Configuration(
            [("HarmonyProxy:ReasoningMemory:MaxAgeMinutes", "30"), ("HarmonyProxy:ReasoningMemory:RedisTimeoutMilliseconds", "50"), ("HarmonyProxy:Responses:EncryptedReasoningHours", "2")]);

        Assert.Equal(TimeSpan.FromMinutes(30), StartupSettings.ReasoningMemory(configuration).MaxAge);
        Assert.Equal(TimeSpan.FromMilliseconds(50), StartupSettings.ReasoningMemory(configuration).RedisTimeout);
        Assert.Equal(TimeSpan.FromHours(2), StartupSettings.Responses(configuration).EncryptedReasoningLifetime);
    }

    [Fact]
    public void TheOldName_InALaterSource_WinsOverTheNewName_InAnEarlierOne()
    {
        // appsettings.json spells the new name; an operator's environment the old one.
        var upstream = Upstream([("HarmonyProxy:Upstream:ReadTimeout", "00:05:00")], [("HarmonyProxy:Upstream:ReadTimeoutSeconds", "60")]);

        Assert.Equal(TimeSpan.FromSeconds(60), upstream.ReadTimeout);
    }

    [Fact]
    public void TheNewName_InALaterSource_WinsOverTheOldName_InAnEarlierOne()
    {
        var upstream = Upstream([("HarmonyProxy:Upstream:ReadTimeoutSeconds", "60")], [("HarmonyProxy:Upstream:ReadTimeout", "00:00:07")]);

        Assert.Equal(TimeSpan.FromSeconds(7), upstream.ReadTimeout);
    }

    [Fact]
    public void ThePredecessorsVariables_MapOntoTheSettings()
    {
        var environment = new Dictionary<string, string>
        {
            ["UPSTREAM_BASE_URL"] = "http://llama:9000/v1",
            ["READ_TIMEOUT"] = "90",
            ["RETRY_BACKOFF_SECONDS"] = "0.25",
            ["MAX_RETRIES"] = "4",
            ["DRAIN_SECONDS"] = "40",
            ["UPSTREAM_BACKENDS"] = "http://a:8080, http://b:8080",
        };
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection([new("HarmonyProxy:Upstream:ReadTimeout", "00:05:00")]);
        configuration.AddLegacyEnvironmentVariables(name => environment.GetValueOrDefault(name));
        configuration.AddLegacyDurationNames();

        var upstream = StartupSettings.Upstream(configuration);

        Assert.Equal("http://llama:9000/v1", upstream.BaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(90), upstream.ReadTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), upstream.RetryBackoff);
        Assert.Equal(4, upstream.MaxRetries);
        Assert.Equal(["http://a:8080", "http://b:8080"], upstream.Backends);
        Assert.Equal(TimeSpan.FromSeconds(40), configuration.GetSection(ShutdownOptions.SectionName).Get<ShutdownOptions>()!.DrainTimeout);
    }

    [Fact]
    public void AnOldNameThatIsNoNumber_StopsTheBinding_WithTheValueNamed()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() => Upstream(("HarmonyProxy:Upstream:ReadTimeoutSeconds", "soon")));

        Assert.Contains("soon", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("ReadTimeout", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRunningService_ReadsTheOldNames_ThroughItsOwnConfiguration()
    {
        using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Upstream:KeepAliveSeconds"] = "3",
            ["HarmonyProxy:Shutdown:DrainSeconds"] = "7",
            ["HarmonyProxy:ReasoningMemory:MaxAgeMinutes"] = "5",
        });

        Assert.Equal(TimeSpan.FromSeconds(3), app.Services.GetRequiredService<IOptions<UpstreamOptions>>().Value.KeepAlive);
        Assert.Equal(TimeSpan.FromSeconds(7), app.Services.GetRequiredService<IOptions<ShutdownOptions>>().Value.DrainTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), app.Services.GetRequiredService<IOptions<ReasoningMemoryOptions>>().Value.MaxAge);
    }

    private static UpstreamOptions Upstream(params (string Key, string Value)[] settings) => Upstream(settings, []);

    private static UpstreamOptions Upstream((string Key, string Value)[] earlier, (string Key, string Value)[] later) =>
        StartupSettings.Upstream(Configuration(earlier, later));

    /// <summary>Two sources in order of precedence, then the durations' old names, as the host adds them.</summary>
    private static ConfigurationManager Configuration((string Key, string Value)[] earlier, params (string Key, string Value)[] later)
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(earlier.Select(setting => new KeyValuePair<string, string?>(setting.Key, setting.Value)));
        configuration.AddInMemoryCollection(later.Select(setting => new KeyValuePair<string, string?>(setting.Key, setting.Value)));
        configuration.AddLegacyDurationNames();
        return configuration;
    }
}
