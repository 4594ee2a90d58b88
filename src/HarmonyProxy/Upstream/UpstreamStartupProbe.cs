using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Probes llama-server from start-up until it is ready, so the operator's first look at the log
/// shows whether the setup is right (<see cref="UpstreamSetupReport"/> writes the line), even
/// before Kubernetes asks <c>/readyz</c>. Waits double from 1 s to 30 s while llama-server is
/// unreachable or loading.
/// </summary>
internal sealed class UpstreamStartupProbe(UpstreamReadinessCheck readiness, IOptions<UpstreamOptions> options, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.StartupReport)
        {
            return;
        }

        var wait = FirstWait;
        try
        {
            while (true)
            {
                var result = await readiness.CheckHealthAsync(new HealthCheckContext(), stoppingToken);
                if (result.Status == HealthStatus.Healthy)
                {
                    return;
                }

                await Task.Delay(wait, time, stoppingToken);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LongestWait.Ticks));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}
