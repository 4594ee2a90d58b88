using HarmonyProxy.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HarmonyProxy.Memory;

/// <summary>
/// The store on Redis (<c>ReasoningMemory:Redis</c>), for several proxy replicas, through the
/// standard <see cref="IDistributedCache"/>. Entries expire after <c>MaxAge</c>; larger
/// than <c>MaxBytes</c> or a client's share (<c>MaxBytesPerClient</c>) are not stored (Redis's own
/// <c>maxmemory</c> policy bounds the rest).
/// A slow or absent Redis never slows a request: each call has a short deadline
/// (<c>RedisTimeout</c>); after a failure Redis is not asked for a few seconds;
/// failures are counted and logged at most once a minute.
/// </summary>
internal sealed class RedisConversationStore(
    IDistributedCache cache,
    IOptionsMonitor<ReasoningMemoryOptions> options,
    TimeProvider time,
    ProxyMetrics metrics,
    ILogger<RedisConversationStore> logger) : IConversationStore
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private long _askAgainAt;
    private long _lastWarning = long.MinValue;

    public string Kind => "redis";

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        GuardAsync("get", token => cache.GetAsync(key, token), (byte[]?)null, cancellationToken);

    public async ValueTask SetAsync(string owner, string key, byte[] value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        var settings = options.CurrentValue;
        if (value.Length > Math.Min(settings.MaxBytes, settings.MaxBytesPerClient))
        {
            metrics.StoreEvicted("too_large");
            return;
        }

        var entry = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = settings.MaxAge };
        await GuardAsync("set", async token =>
        {
            await cache.SetAsync(key, value, entry, token);
            return true;
        }, false, cancellationToken);
    }

    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken) =>
        GuardAsync("remove", async token =>
        {
            if (await cache.GetAsync(key, token) is null)
            {
                return false;
            }

            await cache.RemoveAsync(key, token);
            return true;
        }, false, cancellationToken);

    private async ValueTask<T> GuardAsync<T>(string operation, Func<CancellationToken, Task<T>> call, T fallback, CancellationToken cancellationToken)
    {
        if (time.GetTimestamp() < Volatile.Read(ref _askAgainAt))
        {
            metrics.StoreFailed(Kind, operation, "paused");
            return fallback;
        }

        using var deadline = new CancellationTokenSource(options.CurrentValue.RedisTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            return await call(linked.Token).WaitAsync(linked.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException or RedisException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // The request went away; Redis did nothing wrong.
                return fallback;
            }

            Failed(operation, exception);
            return fallback;
        }
    }

    private void Failed(string operation, Exception exception)
    {
        var now = time.GetTimestamp();
        Volatile.Write(ref _askAgainAt, now + (long)(Pause.TotalSeconds * time.TimestampFrequency));
        metrics.StoreFailed(Kind, operation, exception is OperationCanceledException or TimeoutException ? "timeout" : "error");
        var last = Interlocked.Read(ref _lastWarning);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) >= WarningInterval) && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            Log.StoreFailed(logger, Kind, operation, exception.GetType().Name, exception.Message);
        }
    }
}
