using System.Globalization;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Tests.Upstream;

/// <summary>The upstream room's own settings: ranges by the source-generated validator, rules across settings, and the host refusing to start on either.</summary>
public sealed class UpstreamOptionsTests
{
    [Fact]
    public void Defaults_AreValid()
    {
        Assert.Empty(Errors(new UpstreamOptions()));
    }

    [Theory]
    [InlineData(nameof(UpstreamOptions.ReadTimeout), "-00:00:01", "HarmonyProxy:Upstream:ReadTimeout (READ_TIMEOUT, ReadTimeoutSeconds) must be a positive duration; got -00:00:01.")]
    [InlineData(nameof(UpstreamOptions.ConnectTimeout), "00:00:00", "HarmonyProxy:Upstream:ConnectTimeout (CONNECT_TIMEOUT, ConnectTimeoutSeconds) must be a positive duration; got 00:00:00.")]
    [InlineData(nameof(UpstreamOptions.RetryBackoff), "00:01:01", "HarmonyProxy:Upstream:RetryBackoff (RETRY_BACKOFF_SECONDS, RetryBackoffSeconds) must be between 0 and 60 seconds; got 00:01:01.")]
    [InlineData(nameof(UpstreamOptions.CircuitBreakerFailureRatio), 1.5, "HarmonyProxy:Upstream:CircuitBreakerFailureRatio must be in (0, 1]; got 1.5.")]
    [InlineData(nameof(UpstreamOptions.CircuitBreakerSampling), "00:00:00.2500000", "HarmonyProxy:Upstream:CircuitBreakerSampling (CircuitBreakerSamplingSeconds) must be at least half a second; got 00:00:00.2500000.")]
    [InlineData(nameof(UpstreamOptions.ReadinessCache), "-00:00:00.5000000", "HarmonyProxy:Upstream:ReadinessCache (ReadinessCacheSeconds) must be 0 or a positive duration; got -00:00:00.5000000.")]
    [InlineData(nameof(UpstreamOptions.MaxRetries), 11, "HarmonyProxy:Upstream:MaxRetries (MAX_RETRIES) must be between 0 and 10; got 11.")]
    [InlineData(nameof(UpstreamOptions.MaxConcurrentRequests), 0, "HarmonyProxy:Upstream:MaxConcurrentRequests must be at least 1; got 0.")]
    [InlineData(nameof(UpstreamOptions.SlotsPerBackend), -1, "HarmonyProxy:Upstream:SlotsPerBackend must be 0 (from /props) or positive; got -1.")]
    public void Ranges_NameTheSettingAndItsValue(string property, object value, string expected)
    {
        var options = new UpstreamOptions();
        var setting = typeof(UpstreamOptions).GetProperty(property)!;
        setting.SetValue(options, setting.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse((string)value, CultureInfo.InvariantCulture) : value);

        Assert.Equal([expected], Errors(options));
    }

    [Fact]
    public void Rules_AcrossSettings_AndUrls()
    {
        var options = new UpstreamOptions
        {
            BaseUrl = "llama:8080",
            Backends = ["http://a:8080", "ftp://b"],
            FirstByteTimeout = TimeSpan.FromSeconds(100),
            TotalTimeout = TimeSpan.FromSeconds(50),
            ReadinessProbe = "ping",
        };

        Assert.Equal(
            [
                "HarmonyProxy:Upstream:BaseUrl (UPSTREAM_BASE_URL) must be an absolute http(s) URL; got 'llama:8080'.",
                "HarmonyProxy:Upstream:Backends (UPSTREAM_BACKENDS) must hold absolute http(s) URLs; got 'ftp://b'.",
                "HarmonyProxy:Upstream:ReadinessProbe must be 'props' or 'models'; got 'ping'.",
                "HarmonyProxy:Upstream:TotalTimeout (00:00:50) must not be shorter than FirstByteTimeout (00:01:40).",
            ],
            Errors(options));
    }

    [Fact]
    public void Host_RefusesToStart_WithTheSettingNamed_EnvironmentAliasIncluded()
    {
        // WebApplicationFactory races the entry point that fails: the host can be disposed before
        // the factory asks it for a service, and then it reports ObjectDisposedException instead of
        // what the host threw. A fresh factory shows the validation failure itself.
        OptionsValidationException? failure = null;
        for (var attempt = 0; attempt < 5 && failure is null; attempt++)
        {
            using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:MaxRetries"] = "12" });
            var thrown = Record.Exception(() => app.CreateClient());
            Assert.True(thrown is OptionsValidationException or ObjectDisposedException, thrown?.ToString() ?? "the host started");
            failure = thrown as OptionsValidationException;
        }

        Assert.NotNull(failure);
        Assert.Contains("HarmonyProxy:Upstream:MaxRetries (MAX_RETRIES) must be between 0 and 10; got 12.", failure.Failures);
    }

    private static List<string> Errors(UpstreamOptions options)
    {
        var errors = new List<string>();
        foreach (IValidateOptions<UpstreamOptions> validator in new IValidateOptions<UpstreamOptions>[] { new UpstreamOptionsValidator(), new UpstreamOptionsRules() })
        {
            if (validator.Validate(Options.DefaultName, options) is { Failed: true } result)
            {
                errors.AddRange(result.Failures);
            }
        }

        return errors;
    }
}
