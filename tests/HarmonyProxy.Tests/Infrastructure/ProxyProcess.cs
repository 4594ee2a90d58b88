using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>
/// HarmonyProxy as a real process (the built <c>HarmonyProxy.dll</c> under <c>dotnet</c>, or the
/// Native AOT executable that <c>HARMONY_PROXY_EXECUTABLE</c> names, as <c>.ci/run</c> does), on a
/// loopback port it chooses, for what only a real process shows: signals, exit, the shipped
/// binary. Its JSON log lines are the handshakes.
/// </summary>
internal sealed partial class ProxyProcess : IAsyncDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly ConcurrentQueue<JsonObject> _lines = new();
    private readonly ConcurrentQueue<(Func<JsonObject, bool> Match, TaskCompletionSource<JsonObject> Seen)> _waiters = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProxyProcess(Process process)
    {
        _process = process;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public Task Exited => _exited.Task;

    public int ExitCode => _process.ExitCode;

    public static async Task<ProxyProcess> StartAsync(Uri upstream, IReadOnlyDictionary<string, string> settings, TimeSpan bound)
    {
        var executable = Environment.GetEnvironmentVariable("HARMONY_PROXY_EXECUTABLE") is { Length: > 0 } native ? Path.GetFullPath(native, Repository.Root) : null;
        var dll = executable is null ? ProxyDll() : null;
        var start = new ProcessStartInfo(executable ?? "dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(executable ?? dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (dll is not null)
        {
            start.ArgumentList.Add(dll);
        }

        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["UPSTREAM_BASE_URL"] = upstream.ToString();
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["HarmonyProxy__Upstream__StartupReport"] = "false";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var proxy = new ProxyProcess(process);
        process.OutputDataReceived += (_, line) => proxy.OnLine(line.Data);
        process.ErrorDataReceived += (_, line) => proxy.OnLine(line.Data);
        process.Exited += (_, _) => proxy._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var listening = await proxy.WhenLogged(line => line["address"] is JsonValue).WaitAsync(bound);
        proxy.BaseAddress = new Uri(listening["address"]!.GetValue<string>());
        return proxy;
    }

    /// <summary>Completes with the first log line (past or future) whose event is <paramref name="eventName"/>.</summary>
    public Task<JsonObject> WhenLogged(string eventName) =>
        WhenLogged(line => line["EventId"]?["Name"]?.GetValue<string>() == eventName);

    /// <summary>A real SIGTERM, as Kubernetes sends it.</summary>
    public void SendSigterm()
    {
        if (Kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private Task<JsonObject> WhenLogged(Func<JsonObject, bool> match)
    {
        var seen = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue((match, seen));
        if (_lines.FirstOrDefault(match) is { } earlier)
        {
            seen.TrySetResult(earlier);
        }

        return seen.Task;
    }

    private void OnLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text[0] != '{')
        {
            return;
        }

        JsonObject line;
        try
        {
            line = JsonNode.Parse(text)!.AsObject();
        }
        catch (System.Text.Json.JsonException)
        {
            return;
        }

        _lines.Enqueue(line);
        foreach (var (match, seen) in _waiters)
        {
            if (match(line))
            {
                seen.TrySetResult(line);
            }
        }
    }

    /// <summary>The proxy the test project built: <c>src/HarmonyProxy/bin/{configuration}/{tfm}/HarmonyProxy.dll</c>.</summary>
    private static string ProxyDll()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testBin.Name;
        var configuration = testBin.Parent!.Name;
        var dll = Path.Combine(Repository.Root, "src", "HarmonyProxy", "bin", configuration, framework, "HarmonyProxy.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first: the proxy's own output is needed.", dll);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
