using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>The key llama-server expects (its <c>--api-key</c>), from configuration or a mounted secret file, read once.</summary>
internal sealed class UpstreamCredentials(IOptions<UpstreamOptions> options)
{
    private readonly Lazy<string?> _apiKey = new(() =>
    {
        var upstream = options.Value;
        if (!string.IsNullOrWhiteSpace(upstream.ApiKey))
        {
            return upstream.ApiKey.Trim();
        }

        return string.IsNullOrWhiteSpace(upstream.ApiKeyFile) ? null : File.ReadAllText(upstream.ApiKeyFile).Trim();
    });

    public string? ApiKey => _apiKey.Value;
}
