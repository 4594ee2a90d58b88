using System.Net;
using HarmonyProxy.Upstream;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>
/// The real app, with the upstream replaced: by <see cref="Upstream"/> (MockHttp, in memory)
/// by default, or by a real llama-server simulator URL for loopback end-to-end tests, where
/// the proxy runs on Kestrel too.
/// </summary>
internal sealed class HarmonyProxyApplication : WebApplicationFactory<Program>
{
    public const string UpstreamBase = "http://llama.test/v1";

    private readonly Dictionary<string, string?> _settings;
    private readonly Uri? _realUpstream;

    static HarmonyProxyApplication()
    {
        // Hundreds of hosts per run: file watchers on appsettings.json would exhaust inotify.
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
    }

    public HarmonyProxyApplication(Dictionary<string, string?>? settings = null, Uri? realUpstream = null)
    {
        _settings = settings ?? [];
        _realUpstream = realUpstream;
        if (realUpstream is not null)
        {
            UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        }
    }

    public MockHttpMessageHandler Upstream { get; } = new();

    /// <summary>The app's clock, when a test drives it (<c>FakeTimeProvider</c>); the system clock otherwise.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>More service configuration for one test (an in-memory trace exporter, say).</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>Every Serilog event the app wrote.</summary>
    public LogEventCollector LogEvents { get; } = new();

    /// <summary>The current value of one series in <c>/metrics</c> (0 when absent).</summary>
    public async Task<double> MetricAsync(string series)
    {
        var text = await CreateClient().GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(candidate => candidate.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The proxy's loopback address when it runs on Kestrel.</summary>
    public Uri ServerAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First());
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("HarmonyProxy:Upstream:BaseUrl", _realUpstream?.ToString() ?? UpstreamBase);
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("HarmonyProxy:Upstream:RetryBackoffSeconds", "0.01");
        // The start-up probe would race each test's own upstream mocks; its own tests turn it on.
        builder.UseSetting("HarmonyProxy:Upstream:StartupReport", "false");
        if (_realUpstream is null)
        {
            // So would the model lists read every probe interval; a real upstream (the simulator) answers them.
            builder.UseSetting("HarmonyProxy:Upstream:ModelProbe", "false");
        }

        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            // A registry of its own per app, so metric values are this test's deltas.
            services.AddSingleton(Prometheus.Metrics.NewCustomRegistry());
            services.AddSingleton<Serilog.Core.ILogEventSink>(LogEvents);
            if (Time is not null)
            {
                services.AddSingleton(Time);
            }

            TestServices?.Invoke(services);
            if (_realUpstream is null)
            {
                services.AddHttpClient<UpstreamClient>(UpstreamClient.ClientName).ConfigurePrimaryHttpMessageHandler(() => Upstream);
            }
        });
    }
}
