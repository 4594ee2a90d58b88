using System.Threading.RateLimiting;
using HarmonyProxy.Configuration;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Back-pressure: at most <see cref="UpstreamOptions.MaxConcurrentRequests"/> requests reach
/// llama-server at once (its slot count), up to <see cref="UpstreamOptions.MaxQueuedRequests"/>
/// wait in order, the rest are refused (the endpoint answers 429 with Retry-After).
/// </summary>
internal sealed class UpstreamConcurrencyGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public UpstreamConcurrencyGate(IOptions<HarmonyProxyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var upstream = options.Value.Upstream;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = upstream.MaxConcurrentRequests,
            QueueLimit = upstream.MaxQueuedRequests,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Raised when a request has to wait for (or be refused) a slot.</summary>
    public event Action? Waiting;

    /// <summary>A lease (dispose it when the request ends), or null when the queue is full.</summary>
    public async ValueTask<RateLimitLease?> AcquireAsync(CancellationToken cancellationToken)
    {
        var immediate = _limiter.AttemptAcquire(1);
        if (immediate.IsAcquired)
        {
            return immediate;
        }

        immediate.Dispose();
        Waiting?.Invoke();
        var lease = await _limiter.AcquireAsync(1, cancellationToken);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    public void Dispose() => _limiter.Dispose();
}
