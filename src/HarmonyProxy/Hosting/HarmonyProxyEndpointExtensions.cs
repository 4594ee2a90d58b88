using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Inspector;
using HarmonyProxy.Wire;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Microsoft.AspNetCore.Builder;

internal static class HarmonyProxyEndpointExtensions
{
    public const string ReadyTag = "ready";

    /// <summary>
    /// Any unhandled exception becomes a 500 in OpenAI's shape with no stack trace; the
    /// exception itself goes to the log.
    /// </summary>
    public static WebApplication UseHarmonyProxyErrors(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // One logger for the app's life: Serilog's factory builds a new one on every CreateLogger.
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("HarmonyProxy.Errors");
        app.UseExceptionHandler(errorApp => errorApp.Run(async context =>
        {
            var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (exception is not null)
            {
                Log.UnhandledError(logger, context.TraceIdentifier, exception);
            }

            await ErrorResults.WriteAsync(context, StatusCodes.Status500InternalServerError, "The proxy failed to handle the request.", OpenAiError.Server, "internal_error");
        }));
        app.UseStatusCodePages(async statusContext =>
        {
            // Framework-made statuses (405, 415…) get the OpenAI shape too.
            var context = statusContext.HttpContext;
            await ErrorResults.WriteAsync(context, context.Response.StatusCode, $"The request could not be served ({context.Response.StatusCode}).", OpenAiError.InvalidRequest, "invalid_request");
        });
        return app;
    }

    /// <summary>Request ids, one summary line per request, then HTTP metrics for every route; made-up methods recorded as <c>OTHER</c>.</summary>
    public static WebApplication UseHarmonyProxyObservability(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseKnownMethods();
        app.UseMemoryReturnAfterLargeBodies();
        app.UseRequestId();
        app.UseRequestSummary();
        app.UseRouting();
        app.UseHttpMetrics(options => options.SetMetricFactory(Metrics.WithCustomRegistry(app.Services.GetRequiredService<CollectorRegistry>())));
        return app;
    }

    /// <summary>The route table: completions, models, health, metrics, and a 404 in OpenAI's shape for the rest.</summary>
    public static WebApplication MapHarmonyProxy(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapChatCompletionsApi();
        app.MapResponsesApi();
        app.MapMessagesApi();
        app.MapPassThroughApi();
        app.MapInspectorApi();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = HealthResponses.WriteAsync });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = static check => check.Tags.Contains(ReadyTag), ResponseWriter = HealthResponses.WriteAsync });
        if (app.Services.GetRequiredService<IOptions<MetricsEndpointOptions>>().Value.Enabled)
        {
            // Create the metric families now, so /metrics lists every one from the first scrape.
            _ = app.Services.GetRequiredService<ProxyMetrics>();
            app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>());
        }

        app.MapFallback(ErrorResults.NotFoundAsync);
        return app;
    }
}
