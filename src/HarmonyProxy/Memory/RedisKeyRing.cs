using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Xml.Linq;
using HarmonyProxy.Diagnostics;
using Microsoft.AspNetCore.DataProtection.Repositories;
using StackExchange.Redis;

namespace HarmonyProxy.Memory;

/// <summary>
/// The Data Protection keys that seal reasoning for the Responses API, kept on Redis for every
/// replica and served to Data Protection from memory. Data Protection reads its repository
/// synchronously on the request that first needs a key: read straight from Redis, an absent
/// Redis held that request for the client's whole sync timeout, the next ones queued behind its
/// lock and the thread pool starved. Here a background loop reads Redis with a deadline (and
/// writes back keys made here); <see cref="GetAllElements"/> never waits. Until a first read has
/// succeeded <see cref="IsLoaded"/> is false and the sealer does not ask Data Protection for a
/// key, so it never makes a key of its own that the other replicas would not know.
/// The list key and its encoding are those of <c>PersistKeysToStackExchangeRedis</c>, so
/// replicas of earlier versions share the same keys.
/// </summary>
internal sealed class RedisKeyRing(
    Func<Task<IConnectionMultiplexer>> connect,
    TimeProvider time,
    ILogger<RedisKeyRing> logger) : BackgroundService, IXmlRepository
{
    public const string RedisKey = "harmony-proxy:data-protection-keys";

    /// <summary>How long one read or write of the keys may take before the loop gives up on it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    /// <summary>How often the keys are read again once loaded (new keys from other replicas).</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    /// <summary>How soon a failed read is tried again.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentQueue<XElement> _unsaved = new();
    private ImmutableArray<XElement> _elements = [];
    private TaskCompletionSource _stored = NewSignal();
    private volatile bool _loaded;
    private long _lastWarning = long.MinValue;

    /// <summary>True once the keys have been read from Redis at least once.</summary>
    public bool IsLoaded => _loaded;

    public IReadOnlyCollection<XElement> GetAllElements() => [.. _elements.Select(element => new XElement(element))];

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        var copy = new XElement(element);
        ImmutableInterlocked.Update(ref _elements, elements => elements.Add(copy));
        _unsaved.Enqueue(copy);
        Interlocked.Exchange(ref _stored, NewSignal()).TrySetResult();
    }

    /// <summary>Writes the keys made here, then reads the whole list; each call bounded by <see cref="Deadline"/>.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var database = (await connect().WaitAsync(Deadline, time, cancellationToken)).GetDatabase();
        while (_unsaved.TryPeek(out var element))
        {
            await database.ListRightPushAsync(RedisKey, element.ToString(SaveOptions.DisableFormatting)).WaitAsync(Deadline, time, cancellationToken);
            _unsaved.TryDequeue(out _);
        }

        var values = await database.ListRangeAsync(RedisKey).WaitAsync(Deadline, time, cancellationToken);
        var elements = values.Select(value => XElement.Parse(value.ToString())).ToImmutableArray();

        // A key made while the list was read is in neither: keep it until the next write.
        _elements = elements.AddRange(_unsaved);
        _loaded = true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RefreshForeverAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private async Task RefreshForeverAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = RefreshInterval;
            try
            {
                var wasLoaded = _loaded;
                await RefreshAsync(stoppingToken);
                if (!wasLoaded)
                {
                    Log.SealingKeysLoaded(logger, _elements.Length);
                }
            }
            catch (Exception exception) when (exception is TimeoutException or RedisException or System.Xml.XmlException or ObjectDisposedException
                                                  or System.Net.Sockets.SocketException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                wait = RetryInterval;
                Warn(exception);
            }

            var stored = Volatile.Read(ref _stored).Task;
            if (wait == RefreshInterval && !_unsaved.IsEmpty)
            {
                // A key was made during the read: write it now.
                continue;
            }

            using var delay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(stored, Task.Delay(wait, time, delay.Token));
            await delay.CancelAsync();
        }
    }

    private void Warn(Exception exception)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) >= WarningInterval) && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            Log.SealingKeysUnavailable(logger, _loaded, exception.GetType().Name, exception.Message);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
