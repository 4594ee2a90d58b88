using System.Text.Json;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Setup;

/// <summary>
/// <c>HarmonyProxy setup &lt;client&gt; [--url URL] [--model M] [--key K] [--print] [--home DIR]</c>:
/// writes the client's configuration for this proxy where the client reads it (an existing file
/// is kept as a <c>.bak-…</c> copy first), or prints it with <c>--print</c>. The model is the
/// proxy's first from <c>/v1/models</c> unless <c>--model</c> names one.
/// </summary>
internal static class ClientSetupCommand
{
    public const string Name = "setup";

    private const string Usage = "usage: HarmonyProxy setup <codex|claude|opencode|continue|cline|kilo|qwen> [--url http://127.0.0.1:8081] [--model MODEL] [--key KEY] [--print] [--home DIR]";

    public static bool IsInvoked(string[] args) => args is [Name, ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length < 2 || !ClientConfigs.Clients.Contains(args[1]) || Options(args[2..]) is not { } options)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var client = args[1];
        if (!Uri.TryCreate(options.GetValueOrDefault("--url", "http://127.0.0.1:8081"), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"--url must be the proxy's http(s) address; got '{options.GetValueOrDefault("--url")}'.");
            return 2;
        }

        var key = options.GetValueOrDefault("--key") ?? Environment.GetEnvironmentVariable("HARMONY_PROXY_API_KEY");
        var model = options.GetValueOrDefault("--model") ?? await FirstModelAsync(url, key, handler, error);
        if (model is null)
        {
            return 1;
        }

        var values = new SetupValues(url, model, string.IsNullOrEmpty(key) ? null : key);
        var home = options.GetValueOrDefault("--home") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var files = ClientConfigs.For(client, values, home, path => File.Exists(path) ? File.ReadAllText(path) : null);
        foreach (var file in files)
        {
            if (options.ContainsKey("--print"))
            {
                await output.WriteLineAsync($"# {file.Path}");
                await output.WriteLineAsync(file.Text);
                continue;
            }

            var backup = Write(file);
            await output.WriteLineAsync(backup is null ? $"wrote {file.Path}" : $"wrote {file.Path} (the previous one is {backup})");
        }

        await output.WriteLineAsync(ClientConfigs.Instructions(client, values));
        return 0;
    }

    /// <summary>Writes the file, keeping a different one that was there as a timestamped backup; returns the backup's path.</summary>
    public static string? Write(ConfigFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        Directory.CreateDirectory(Path.GetDirectoryName(file.Path)!);
        string? backup = null;
        if (File.Exists(file.Path) && File.ReadAllText(file.Path) != file.Text)
        {
            backup = $"{file.Path}.bak-{TimeProvider.System.GetUtcNow():yyyyMMddHHmmss}";
            File.Copy(file.Path, backup, overwrite: false);
        }

        File.WriteAllText(file.Path, file.Text);
        return backup;
    }

    /// <summary>The proxy's first model, from its <c>/v1/models</c>.</summary>
    private static async Task<string?> FirstModelAsync(Uri url, string? key, HttpMessageHandler? handler, TextWriter error)
    {
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(10);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, "/v1/models"));
        if (!string.IsNullOrEmpty(key))
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        try
        {
            using var response = await http.SendAsync(request);
            var models = response.IsSuccessStatusCode ? LlamaServerModels.Parse(await response.Content.ReadAsByteArrayAsync()) : null;
            if (models is { Count: > 0 })
            {
                return models[0].Id;
            }

            await error.WriteLineAsync($"The proxy at {url} listed no model (GET /v1/models answered {(int)response.StatusCode}); name one with --model.");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            await error.WriteLineAsync($"The proxy at {url} could not be asked for its models ({exception.Message}); start it, or name the model with --model.");
        }

        return null;
    }

    /// <summary><c>--name value</c> pairs and bare flags; null when something is neither.</summary>
    private static Dictionary<string, string?>? Options(string[] args)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--print":
                    options["--print"] = null;
                    break;
                case "--url" or "--model" or "--key" or "--home" when i + 1 < args.Length:
                    options[args[i]] = args[++i];
                    break;
                default:
                    return null;
            }
        }

        return options;
    }
}
