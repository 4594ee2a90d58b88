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
    [InlineData(nameof(UpstreamOptions.ReadTimeoutSeconds), -1.0, "HarmonyProxy:Upstream:ReadTimeoutSeconds (READ_TIMEOUT) must be a positive number of seconds; got -1.")]
    [InlineData(nameof(UpstreamOptions.ConnectTimeoutSeconds), 0.0, "HarmonyProxy:Upstream:ConnectTimeoutSeconds (CONNECT_TIMEOUT) must be a positive number of seconds; got 0.")]
    [InlineData(nameof(UpstreamOptions.RetryBackoffSeconds), double.NaN, "HarmonyProxy:Upstream:RetryBackoffSeconds (RETRY_BACKOFF_SECONDS) must be between 0 and 60; got NaN.")]
    [InlineData(nameof(UpstreamOptions.CircuitBreakerFailureRatio), 1.5, "HarmonyProxy:Upstream:CircuitBreakerFailureRatio must be in (0, 1]; got 1.5.")]
    [InlineData(nameof(UpstreamOptions.CircuitBreakerSamplingSeconds), 0.25, "HarmonyProxy:Upstream:CircuitBreakerSamplingSeconds must be at least 0.5; got 0.25.")]
    [InlineData(nameof(UpstreamOptions.ReadinessCacheSeconds), -0.5, "HarmonyProxy:Upstream:ReadinessCacheSeconds must be 0 or more seconds; got -0.5.")]
    [InlineData(nameof(UpstreamOptions.MaxRetries), 11, "HarmonyProxy:Upstream:MaxRetries (MAX_RETRIES) must be between 0 and 10; got 11.")]
    [InlineData(nameof(UpstreamOptions.MaxConcurrentRequests), 0, "HarmonyProxy:Upstream:MaxConcurrentRequests must be at least 1; got 0.")]
    [InlineData(nameof(UpstreamOptions.SlotsPerBackend), -1, "HarmonyProxy:Upstream:SlotsPerBackend must be 0 (from /props) or positive; got -1.")]
    public void Ranges_NameTheSettingAndItsValue(string property, object value, string expected)
    {
        var options = new UpstreamOptions();
        typeof(UpstreamOptions).GetProperty(property)!.SetValue(options, value);

        Assert.Equal([expected], Errors(options));
    }

    [Fact]
    public void Rules_AcrossSettings_AndUrls()
    {
        var options = new UpstreamOptions
        {
            BaseUrl = "llama:8080",
            Backends = ["http://a:8080", "ftp://b"],
            FirstByteTimeoutSeconds = 100,
            TotalTimeoutSeconds = 50,
            ReadinessProbe = "ping",
        };

        Assert.Equal(
            [
                "HarmonyProxy:Upstream:BaseUrl (UPSTREAM_BASE_URL) must be an absolute http(s) URL; got 'llama:8080'.",
                "HarmonyProxy:Upstream:Backends (UPSTREAM_BACKENDS) must hold absolute http(s) URLs; got 'ftp://b'.",
                "HarmonyProxy:Upstream:ReadinessProbe must be 'props' or 'models'; got 'ping'.",
                "HarmonyProxy:Upstream:TotalTimeoutSeconds (50) must not be shorter than FirstByteTimeoutSeconds (100).",
            ],
            Errors(options));
    }

    [Fact]
    public void Durations_AreTimeSpans_OfTheSecondsSettings()
    {
        var options = new UpstreamOptions { ReadTimeoutSeconds = 2.5, KeepAliveSeconds = 15, RetryBackoffSeconds = 0.5 };

        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.ReadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), options.KeepAlive);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RetryBackoff);
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
