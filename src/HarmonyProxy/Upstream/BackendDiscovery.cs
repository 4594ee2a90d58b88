using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Backends from a DNS name (<c>Upstream:BackendsDns</c>, a Kubernetes headless Service): YARP's
/// DNS destination resolver turns the URL into one URL per address and says when to resolve
/// again (<c>Upstream:DnsRefreshInterval</c>); the pool then takes the new set. Nothing here
/// resolves names itself.
/// </summary>
internal sealed class BackendDiscovery(BackendPool pool, IServiceProvider services, IOptions<UpstreamOptions> options, ILogger<BackendDiscovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.BackendsDns is not { Length: > 0 } url || services.GetService<IDestinationResolver>() is not { } resolver)
        {
            return;
        }

        var configured = new Dictionary<string, DestinationConfig> { ["llama-server"] = new() { Address = url } };
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                IChangeToken? change = null;
                try
                {
                    var resolved = await resolver.ResolveDestinationsAsync(configured, stoppingToken);
                    change = resolved.ChangeToken;
                    var backends = resolved.Destinations.Values.Select(d => new Uri(d.Address)).OrderBy(u => u.ToString(), StringComparer.Ordinal).ToList();
                    pool.SetBackends(backends);
                    Diagnostics.Log.BackendsDiscovered(logger, url, backends.Count, string.Join(", ", backends.Select(b => b.Authority)));
                }
                catch (Exception exception) when (exception is System.Net.Sockets.SocketException or InvalidOperationException or ArgumentException)
                {
                    // The name does not resolve (yet): keep the backends there are, try again later.
                    Diagnostics.Log.BackendDiscoveryFailed(logger, url, exception.Message);
                }

                await WhenChangedAsync(change, options.Value.DnsRefreshInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>Until the resolver's change token fires (its refresh period), or the fallback period when it gave none.</summary>
    private static async Task WhenChangedAsync(IChangeToken? change, TimeSpan fallback, CancellationToken cancellationToken)
    {
        if (change is null || !change.ActiveChangeCallbacks)
        {
            await Task.Delay(fallback, cancellationToken);
            return;
        }

        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = change.RegisterChangeCallback(static state => ((TaskCompletionSource)state!).TrySetResult(), changed);
        await changed.Task.WaitAsync(cancellationToken);
    }
}
