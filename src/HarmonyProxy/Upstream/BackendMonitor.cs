using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>
/// With several backends: reads each one's <c>/props</c> for its slot count (the pool's cap for it,
/// unless one is configured), and probes every one's <c>/health</c>: one that does not answer 200
/// within <c>ReadinessTimeout</c> is ejected and the requests waiting on it move
/// (<see cref="BackendPool.ReportProbeFailure"/>); an ejected one that answers returns at once
/// rather than when its back-off ends. One pass every <c>Upstream:BackendProbeInterval</c>.
/// </summary>
internal sealed class BackendMonitor(BackendPool pool, UpstreamClient upstream, IOptions<UpstreamOptions> options, TimeProvider time, ILogger<BackendMonitor> logger) : BackgroundService
{
    /// <summary>Slots are read again every this many passes (a llama-server may restart with another <c>-np</c>).</summary>
    private const int PropsEveryPasses = 12;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.SeveralBackends)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.BackendProbeInterval, time);
        var pass = 0;
        try
        {
            do
            {
                foreach (var backend in pool.Backends)
                {
                    await ProbeAsync(backend, readProps: pass % PropsEveryPasses == 0 || backend.TotalSlots is null, stoppingToken);
                }

                pass++;
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>One backend: its slots when asked, and whether it answers its health probe.</summary>
    internal async Task ProbeAsync(Backend backend, bool readProps, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.ReadinessTimeout);
        try
        {
            using (var health = await upstream.GetAsync(new Uri(backend.ApiBase, "/health").ToString(), clientAuthorization: null, deadline.Token))
            {
                if (!health.IsSuccessStatusCode)
                {
                    ProbeFailed(backend, $"HTTP {(int)health.StatusCode}");
                    return;
                }
            }

            if (backend.EjectedUntil > 0)
            {
                pool.ReportSuccess(backend);
            }

            if (readProps)
            {
                using var props = await upstream.GetAsync(new Uri(backend.ApiBase, "/props").ToString(), clientAuthorization: null, deadline.Token);
                if (props.IsSuccessStatusCode && LlamaServerProps.Parse(await props.Content.ReadAsByteArrayAsync(deadline.Token)) is { TotalSlots: > 0 and var slots })
                {
                    pool.ObserveSlots(backend, slots);
                }
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            ProbeFailed(backend, exception.GetType().Name);
        }
    }

    private void ProbeFailed(Backend backend, string reason)
    {
        if (pool.ReportProbeFailure(backend))
        {
            Diagnostics.Log.BackendEjectedByProbe(logger, backend.Name, reason);
        }
        else
        {
            Diagnostics.Log.BackendProbeFailed(logger, backend.Name, reason);
        }
    }
}
