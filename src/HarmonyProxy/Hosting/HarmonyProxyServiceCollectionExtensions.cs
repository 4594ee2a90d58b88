using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Forwarding;
using HarmonyProxy.Hosting;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

internal static class HarmonyProxyServiceCollectionExtensions
{
    /// <summary>The typed upstream client, the backends, the request engine, metrics and health.</summary>
    public static WebApplicationBuilder AddHarmonyProxy(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddUpstreamClient();
        builder.Services.AddSingleton<UpstreamCredentials>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MemoryReturn>();
        builder.Services.AddSingleton<BackendPool>();
        builder.Services.AddHostedService<BackendMonitor>();
        builder.Services.AddHostedService<BackendDiscovery>();
        var upstream = StartupSettings.Upstream(builder.Configuration);
        if (!string.IsNullOrEmpty(upstream.BackendsDns))
        {
            // Only YARP's DNS destination resolver is used, not its proxy.
            builder.Services.AddReverseProxy().AddDnsDestinationResolver(o =>
            {
                o.RefreshPeriod = upstream.DnsRefreshInterval;
                o.AddressFamily = System.Net.Sockets.AddressFamily.InterNetwork;
            });
        }
        builder.Services.AddSingleton<CompletionPreparer>();
        builder.Services.AddSingleton<CompletionForwarder>();
        builder.Services.AddSingleton<ForwarderRetry>();
        builder.Services.AddSingleton<CompletionReporter>();
        builder.Services.AddSingleton<CompletionEndpoint>();
        builder.Services.AddSingleton<PassThroughApi.PassThrough>();

        // Metrics on an injectable registry (the default one unless a test brings its own).
        // prometheus-net's EventCounter and Meter adapters publish names promtool rejects
        // (system_runtime_dotnet_timer_count…); process and .NET GC metrics stay.
        SuppressLintFailingDefaultMetrics();
        builder.Services.TryAddSingleton(Prometheus.Metrics.DefaultRegistry);
        builder.Services.AddSingleton<ProxyMetrics>();

        // Health: /healthz is liveness only; /readyz probes llama-server, which is also
        // probed from start-up until ready, to log its setup in one line.
        builder.Services.AddSingleton<UpstreamSetupReport>();
        builder.Services.AddSingleton<UpstreamReadinessCheck>();
        builder.Services.AddHostedService<UpstreamStartupProbe>();
        builder.Services.AddHealthChecks()
            .AddCheck<UpstreamReadinessCheck>("upstream", tags: [HarmonyProxyEndpointExtensions.ReadyTag]);
        return builder;
    }

    private static int _defaultMetricsConfigured;

    private static void SuppressLintFailingDefaultMetrics()
    {
        // Process-wide and allowed once; test hosts build many apps in one process.
        if (Interlocked.Exchange(ref _defaultMetricsConfigured, 1) == 0)
        {
            Prometheus.Metrics.SuppressDefaultMetrics(new Prometheus.SuppressDefaultMetricOptions
            {
                SuppressEventCounters = true,
                SuppressMeters = true,
            });
        }
    }
}
