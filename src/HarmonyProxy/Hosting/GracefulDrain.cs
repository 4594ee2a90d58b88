using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Hosting;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Graceful drain on SIGTERM (a rolling update): <c>/readyz</c> answers 503 at once, new API
/// requests get 503 with <c>Retry-After</c>, open completions may finish for up to
/// <c>Shutdown:DrainTimeout</c>; then each ends with a retryable error (a 503, or one error event
/// then <c>[DONE]</c>) and its upstream request is cancelled, and the process exits.
/// The drain runs in <see cref="IHostedLifecycleService.StoppingAsync"/>, before Kestrel stops,
/// so the server still answers while it drains.
/// </summary>
internal static class GracefulDrain
{
    /// <summary>Time given to the streams ended at the drain deadline to write their endings.</summary>
    public static readonly TimeSpan EndingGrace = TimeSpan.FromSeconds(3);

    public static WebApplicationBuilder AddHarmonyProxyDrain(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<DrainService>();
        builder.Services.AddHealthChecks().AddCheck<DrainReadinessCheck>("drain", tags: [HarmonyProxyEndpointExtensions.ReadyTag]);

        // The host must wait for the drain and the endings, with a margin for the rest of shutdown.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.DrainTimeout + EndingGrace + TimeSpan.FromSeconds(2));
        return builder;
    }

    /// <summary>New API requests while draining: 503 with Retry-After, so the client tries another replica.</summary>
    public static WebApplication UseHarmonyProxyDrain(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var drain = app.Services.GetRequiredService<DrainState>();
        app.Use(async (context, next) =>
        {
            if (drain.IsDraining && !ProbeRoutes.IsProbe(context.Request.Path))
            {
                await ErrorResults.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The proxy is shutting down; retry, another replica will answer.", OpenAiError.Server, "shutting_down", retryAfter: TimeSpan.FromSeconds(1));
                return;
            }

            await next(context);
        });
        return app;
    }

    /// <summary>Not ready while draining, so the load balancer stops sending requests at once.</summary>
    private sealed class DrainReadinessCheck(DrainState drain) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(drain.IsDraining
                ? HealthCheckResult.Unhealthy("The proxy is shutting down.")
                : HealthCheckResult.Healthy("Serving."));
    }

    private sealed class DrainService(DrainState drain, IOptions<ShutdownOptions> options, TimeProvider time, ILogger<DrainState> logger) : IHostedLifecycleService
    {
        public async Task StoppingAsync(CancellationToken cancellationToken)
        {
            drain.BeginDraining();
            var limit = options.Value.DrainTimeout;
            Log.DrainStarted(logger, drain.OpenCompletions, limit.TotalSeconds);
            var idle = drain.WhenIdleAsync();
            try
            {
                await idle.WaitAsync(limit, time, cancellationToken);
                Log.DrainFinished(logger, 0);
                return;
            }
            catch (TimeoutException)
            {
                // The drain time is over: the streams still open end now, cleanly.
            }
            catch (OperationCanceledException)
            {
                // The host's own shutdown timeout: end what is open now.
            }

            var ended = drain.OpenCompletions;
            drain.EndOpenStreams();
            try
            {
                await idle.WaitAsync(EndingGrace, time, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                // Kestrel aborts whatever is left when it stops.
            }

            Log.DrainFinished(logger, ended);
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
