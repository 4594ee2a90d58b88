using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Reads every backend's <c>/v1/models</c> (which models it serves and, in router mode, whether
/// each is loaded: <see cref="BackendPool.ObserveModels"/>). With several backends it also reads
/// each one's <c>/props</c> for its slot count (the pool's cap for it, unless one is configured),
/// and probes every one's <c>/health</c>: one that does not answer 200 within
/// <c>ReadinessTimeout</c> is ejected and the requests waiting on it move
/// (<see cref="BackendPool.ReportProbeFailure"/>); an ejected one that answers returns at once
/// rather than when its back-off ends. One pass every <c>Upstream:BackendProbeInterval</c>.
/// </summary>
internal sealed class BackendMonitor(BackendPool pool, UpstreamClient upstream, IOptions<UpstreamOptions> options, TimeProvider time, ILogger<BackendMonitor> logger) : BackgroundService
{
    /// <summary>Slots are read again every this many passes (a llama-server may restart with another <c>-np</c>).</summary>
    private const int PropsEveryPasses = 12;

    /// <summary>A router may list many models; anything past this is not a model list.</summary>
    private const int MaxModelsBytes = 4 * 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var several = options.Value.SeveralBackends;
        var readModels = options.Value.ModelProbe;
        if (!several && !readModels)
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
                    if (several)
                    {
                        await ProbeAsync(backend, readProps: pass % PropsEveryPasses == 0 || backend.TotalSlots is null, stoppingToken);
                    }

                    if (readModels)
                    {
                        await ReadModelsAsync(backend, stoppingToken);
                    }
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

    /// <summary>The models one backend lists; nothing changes when it cannot say (down, no such route).</summary>
    internal async Task ReadModelsAsync(Backend backend, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.ReadinessTimeout);
        try
        {
            using var response = await upstream.GetAsync(new Uri(backend.ApiBase, "models").ToString(), clientAuthorization: null, deadline.Token);
            if (response.IsSuccessStatusCode && LlamaServerModels.Parse(await UpstreamBodies.ReadBoundedAsync(response.Content, MaxModelsBytes, deadline.Token)) is { Count: > 0 } models)
            {
                pool.ObserveModels(backend, models);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever a backend answers, learning its models never stops the proxy: the last list stands.
            Diagnostics.Log.BackendModelsUnread(logger, backend.Name, exception.GetType().Name);
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
