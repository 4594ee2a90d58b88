using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a loopback port of its own, for the tests of the shared store;
/// installed by <c>scripts/ensure-redis.sh</c> when missing. Ready when it says so on stdout.
/// </summary>
public sealed class RedisServer : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private Process? _process;
    private ConnectionMultiplexer? _connection;

    public int Port { get; private set; }

    /// <summary>The connection string the proxy is given.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public Task InitializeAsync() => LaunchAsync(FreePort());

    /// <summary>A redis-server started on <paramref name="port"/>, where a proxy may already be waiting for it.</summary>
    public static async Task<RedisServer> StartAsync(int port)
    {
        var server = new RedisServer();
        await server.LaunchAsync(port);
        return server;
    }

    private async Task LaunchAsync(int port)
    {
        await EnsureInstalledAsync();
        Port = port;
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited before it was ready"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await ready.Task.WaitAsync(Bound);
        _connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        await _connection.GetServer(ConnectionString).ExecuteAsync("CONFIG", "SET", "notify-keyspace-events", "KA");
    }

    /// <summary>
    /// Completes when a key containing <paramref name="fragment"/> is written: Redis's keyspace
    /// notifications are the handshake for writes the proxy makes after a response ended.
    /// </summary>
    public async Task<Task> WhenKeyWrittenAsync(string fragment)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var channel = RedisChannel.Pattern($"__keyspace@0__:*{fragment}*");
        var subscriber = _connection!.GetSubscriber();
        await subscriber.SubscribeAsync(channel, (_, _) => written.TrySetResult());
        return written.Task.WaitAsync(Bound);
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists("/usr/bin/redis-server") || File.Exists("/usr/local/bin/redis-server"))
        {
            return;
        }

        using var install = Process.Start("bash", Path.Combine(Repository.Root, "scripts", "ensure-redis.sh"));
        await install.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException("redis-server is missing and scripts/ensure-redis.sh could not install it.");
        }
    }

    /// <summary>A loopback port nobody listens on (for redis-server, or for a Redis that is down).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
