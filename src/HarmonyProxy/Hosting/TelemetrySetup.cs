using HarmonyProxy.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// OpenTelemetry traces and metrics, exported over OTLP, on only when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the SDK reads the other <c>OTEL_*</c> variables
/// itself: protocol, headers, service name). Traces: a span per request (ASP.NET Core), a child
/// per upstream attempt (<see cref="ProxyTelemetry"/>) and, under it, the HTTP call. Metrics:
/// ASP.NET Core, HttpClient and the GenAI histograms. <c>/metrics</c> for Prometheus is separate
/// and unchanged. Logs carry the trace id either way (Serilog records the current activity).
/// </summary>
internal static class TelemetrySetup
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddHarmonyProxyTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(builder.Configuration[EndpointVariable]))
        {
            return builder;
        }

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "harmony-proxy";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing => tracing
                .AddSource(ProxyTelemetry.Name)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !ProbeRoutes.IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter())
            .WithMetrics(metrics => metrics
                .AddMeter(ProxyTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        return builder;
    }
}
