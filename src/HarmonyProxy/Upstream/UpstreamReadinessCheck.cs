using System.Net;
using HarmonyProxy.Configuration;
using HarmonyProxy.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Readiness (<c>/readyz</c>): llama-server answers <c>/v1/models</c> (or, failing that,
/// <c>/health</c>) within a short timeout, through the same retries and circuit breaker as
/// completions. 401/403 count as ready (the server is up; the predecessor's decision); an open
/// breaker is not ready. Results are cached briefly so frequent probes do not hammer the upstream.
/// </summary>
public sealed class UpstreamReadinessCheck(
    IServiceProvider services,
    IOptionsMonitor<HarmonyProxyOptions> options,
    TimeProvider time,
    ProxyMetrics metrics) : IHealthCheck, IDisposable
{
    private static readonly string[] ProbePaths = ["models", "../health"];

    private readonly SemaphoreSlim _probe = new(1, 1);
    private HealthCheckResult? _cached;
    private long _cachedAt;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.CurrentValue.Upstream;
        var cacheFor = TimeSpan.FromSeconds(settings.ReadinessCacheSeconds);
        if (_cached is { } fresh && time.GetElapsedTime(_cachedAt) < cacheFor)
        {
            return fresh;
        }

        await _probe.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } again && time.GetElapsedTime(_cachedAt) < cacheFor)
            {
                return again;
            }

            var result = await ProbeAsync(TimeSpan.FromSeconds(settings.ReadinessTimeoutSeconds), cancellationToken);
            metrics.UpstreamReady.Set(result.Status == HealthStatus.Healthy ? 1 : 0);
            _cached = result;
            _cachedAt = time.GetTimestamp();
            return result;
        }
        finally
        {
            _probe.Release();
        }
    }

    public void Dispose() => _probe.Dispose();

    private async Task<HealthCheckResult> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        // A typed client per probe: this check is a singleton (it owns the cache), clients are not.
        var upstream = services.GetRequiredService<UpstreamClient>();
        string? firstProblem = null;
        foreach (var path in ProbePaths)
        {
            try
            {
                using var response = await upstream.GetAsync(path, clientAuthorization: null, linked.Token);
                if (response.IsSuccessStatusCode || response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    return HealthCheckResult.Healthy($"llama-server answered /{path.TrimStart('.', '/')} with {(int)response.StatusCode}.");
                }

                firstProblem ??= $"llama-server answered /{path.TrimStart('.', '/')} with {(int)response.StatusCode}.";
            }
            catch (BrokenCircuitException)
            {
                return HealthCheckResult.Unhealthy("The circuit breaker is open: llama-server failed repeatedly.");
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"llama-server did not answer within {timeout.TotalSeconds:0.#} s.");
            }
            catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException)
            {
                firstProblem ??= $"llama-server could not be reached: {exception.Message}";
            }
        }

        return HealthCheckResult.Unhealthy(firstProblem ?? "llama-server is not ready.");
    }
}
