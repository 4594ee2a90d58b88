using System.Net;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Readiness (<c>/readyz</c>) with evidence. The <c>props</c> probe (the default) asks
/// llama-server's <c>/health</c> (503 "Loading model" while the model loads) and then
/// <c>/props</c> (the build, model, slots, context and chat template), falling back to
/// <c>/v1/models</c> on builds without <c>/props</c>; the <c>models</c> probe asks
/// <c>/v1/models</c>, then <c>/health</c>. Probes go through the same retries and circuit
/// breaker as completions; 401/403 count as ready when the proxy sends no key of its own (the
/// server is up and the clients' keys reach it; the predecessor's decision), and as not ready
/// when it refuses the proxy's own upstream key; an open breaker is not ready. Results are cached briefly so frequent probes do
/// not hammer the upstream, and every finding goes to <see cref="UpstreamSetupReport"/>.
/// </summary>
internal sealed class UpstreamReadinessCheck(
    IServiceProvider services,
    IOptionsMonitor<UpstreamOptions> options,
    TimeProvider time,
    ProxyMetrics metrics,
    UpstreamSetupReport report,
    UpstreamBreakerState breaker) : IHealthCheck, IDisposable
{
    public const string PropsProbe = "props";
    public const string ModelsProbe = "models";

    /// <summary>A chat template can run to tens of kilobytes; anything past this is not a /props body.</summary>
    private const int MaxPropsBytes = 1024 * 1024;

    private readonly SemaphoreSlim _probe = new(1, 1);
    private HealthCheckResult? _cached;
    private long _cachedAt;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.CurrentValue;
        var cacheFor = settings.ReadinessCache;
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

            var setup = await ProbeAsync(settings, cancellationToken);
            report.Observe(setup);
            var other = setup.Ready ? null : await OtherReadyBackendAsync(settings, cancellationToken);
            var ready = setup.Ready || other is not null;
            metrics.UpstreamReadiness(ready);
            var models = ModelsByBackend();
            var result = setup.Ready ? HealthCheckResult.Healthy(setup.State, models)
                : other is not null ? HealthCheckResult.Healthy($"backend {other} is ready; the first backend is not: {setup.State}", models)
                : HealthCheckResult.Unhealthy(setup.State, data: models);
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

    /// <summary>The key under which <c>/readyz</c> shows each backend's models and their status.</summary>
    public const string ModelsData = "models";

    /// <summary>Each backend's models as last read (router mode: loaded, loading, unloaded, sleeping): the evidence beside the verdict.</summary>
    private Dictionary<string, object> ModelsByBackend()
    {
        var pool = services.GetRequiredService<BackendPool>();
        var byBackend = pool.Backends.Where(backend => backend.Models.Count > 0).ToDictionary(backend => backend.Name, backend => backend.Models);
        return byBackend.Count == 0 ? [] : new Dictionary<string, object> { [ModelsData] = byBackend };
    }

    /// <summary>With several backends the proxy is ready while any one is: the first other backend whose <c>/health</c> answers 200, or null.</summary>
    private async Task<string?> OtherReadyBackendAsync(UpstreamOptions settings, CancellationToken cancellationToken)
    {
        var pool = services.GetRequiredService<BackendPool>();
        var upstream = services.GetRequiredService<UpstreamClient>();
        foreach (var backend in pool.Backends.Skip(1))
        {
            using var deadline = new CancellationTokenSource(settings.ReadinessTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
            try
            {
                using var health = await upstream.GetAsync(new Uri(backend.ApiBase, "/health").ToString(), clientAuthorization: null, linked.Token);
                if (health.IsSuccessStatusCode)
                {
                    return backend.Name;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
            }
        }

        return null;
    }

    private async Task<UpstreamSetup> ProbeAsync(UpstreamOptions settings, CancellationToken cancellationToken)
    {
        var timeout = settings.ReadinessTimeout;
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        // A typed client per probe: this check is a singleton (it owns the cache), clients are not.
        var upstream = services.GetRequiredService<UpstreamClient>();
        try
        {
            return string.Equals(settings.ReadinessProbe, ModelsProbe, StringComparison.OrdinalIgnoreCase)
                ? await ProbeModelsAsync(upstream, linked.Token)
                : services.GetRequiredService<BackendPool>().Primary.IsRouter
                    ? await ProbeRouterAsync(upstream, linked.Token)
                    : await ProbePropsAsync(upstream, linked.Token);
        }
        catch (BrokenCircuitException)
        {
            return NotReady($"The circuit breaker is open because {breaker.Reason}.");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return NotReady($"llama-server did not answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException)
        {
            return NotReady($"llama-server could not be reached: {exception.Message}");
        }
    }

    private static async Task<UpstreamSetup> ProbePropsAsync(UpstreamClient upstream, CancellationToken cancellationToken)
    {
        HttpStatusCode health;
        using (var response = await upstream.GetAsync("../health", clientAuthorization: null, cancellationToken))
        {
            health = response.StatusCode;
        }

        switch (health)
        {
            case HttpStatusCode.ServiceUnavailable:
                return NotReady("llama-server is loading the model (/health answered 503).");
            case HttpStatusCode.OK or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound:
                // Up, behind a key, or a build without /health: /props tells the rest.
                break;
            default:
                return NotReady($"llama-server answered /health with {(int)health}.");
        }

        using (var response = await upstream.GetAsync("../props", clientAuthorization: null, cancellationToken))
        {
            if (response.IsSuccessStatusCode)
            {
                var props = LlamaServerProps.Parse(await UpstreamBodies.ReadBoundedAsync(response.Content, MaxPropsBytes, cancellationToken));
                return new UpstreamSetup(true, "llama-server is ready: the model is loaded (/props answered 200).", props);
            }

            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                return NotReady("llama-server is loading the model (/props answered 503).");
            }

            if (OwnKeyRefused(upstream, response, "/props") is { } refused)
            {
                return refused;
            }

            if (IsUpBehindKey(response.StatusCode))
            {
                return Ready($"llama-server is up (/props answered {(int)response.StatusCode}: a key hides its setup).");
            }
        }

        // A build without /props: the model list is the evidence that the model is loaded.
        using (var response = await upstream.GetAsync("models", clientAuthorization: null, cancellationToken))
        {
            if (OwnKeyRefused(upstream, response, "/v1/models") is { } refused)
            {
                return refused;
            }

            if (response.IsSuccessStatusCode || IsUpBehindKey(response.StatusCode))
            {
                return Ready($"llama-server answered /v1/models with {(int)response.StatusCode} (it has no /props).");
            }

            return health == HttpStatusCode.OK
                ? Ready("llama-server answered /health with 200 (it has no /props or /v1/models).")
                : NotReady($"llama-server answered /v1/models with {(int)response.StatusCode}.");
        }
    }

    /// <summary>
    /// llama-server's router mode: its own <c>/health</c> answers for it, and every model it lists
    /// counts as available whether loaded, loading, sleeping or unloaded (it loads on demand; the
    /// first request waits for the load, kept alive meanwhile).
    /// </summary>
    private static async Task<UpstreamSetup> ProbeRouterAsync(UpstreamClient upstream, CancellationToken cancellationToken)
    {
        using var response = await upstream.GetAsync("../health", clientAuthorization: null, cancellationToken);
        if (OwnKeyRefused(upstream, response, "/health") is { } refused)
        {
            return refused;
        }

        return response.IsSuccessStatusCode || IsUpBehindKey(response.StatusCode)
            ? Ready("llama-server is ready: a router that loads its models on demand (/health answered 200).")
            : NotReady($"llama-server's router answered /health with {(int)response.StatusCode}.");
    }

    private static async Task<UpstreamSetup> ProbeModelsAsync(UpstreamClient upstream, CancellationToken cancellationToken)
    {
        string? firstProblem = null;
        foreach (var path in (string[])["models", "../health"])
        {
            try
            {
                using var response = await upstream.GetAsync(path, clientAuthorization: null, cancellationToken);
                var shown = "/" + path.TrimStart('.', '/');
                if (OwnKeyRefused(upstream, response, shown) is { } refused)
                {
                    return refused;
                }

                if (response.IsSuccessStatusCode || IsUpBehindKey(response.StatusCode))
                {
                    return Ready($"llama-server answered {shown} with {(int)response.StatusCode}.");
                }

                firstProblem ??= $"llama-server answered {shown} with {(int)response.StatusCode}.";
            }
            catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException)
            {
                firstProblem ??= $"llama-server could not be reached: {exception.Message}";
            }
        }

        return NotReady(firstProblem ?? "llama-server is not ready.");
    }

    private static bool IsUpBehindKey(HttpStatusCode status) => status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>Not ready when llama-server answers the proxy's own upstream key with 401 or 403 (a 401 to no key is a server up behind its clients' keys).</summary>
    private static UpstreamSetup? OwnKeyRefused(UpstreamClient upstream, HttpResponseMessage response, string route) =>
        upstream.SendsOwnKey && IsUpBehindKey(response.StatusCode)
            ? NotReady($"llama-server refused the proxy's upstream key ({route} answered {(int)response.StatusCode}); set Upstream:ApiKey to llama-server's --api-key.")
            : null;

    private static UpstreamSetup Ready(string state) => new(true, state, null);

    private static UpstreamSetup NotReady(string state) => new(false, state, null);
}
