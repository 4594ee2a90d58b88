using System.Text.Json;

namespace HarmonyProxy.Upstream;

/// <summary>
/// A chat request rendered by llama-server's own chat template (<c>POST /apply-template</c>):
/// the prompt the model sees, ending where the assistant's turn begins. Null where llama-server
/// lacks the route (older builds), refuses it or cannot be reached.
/// </summary>
internal static class LlamaServerTemplate
{
    /// <summary>A rendered prompt can be long; anything past this is not an answer of the route.</summary>
    private const int MaxBodyBytes = 64 * 1024 * 1024;

    /// <param name="apiBase">The backend's API base (<c>…/v1/</c>), or null for the first backend; the route lives beside it.</param>
    /// <param name="chatRequest">The chat request as it is sent to llama-server (UTF-8 JSON).</param>
    public static async Task<string?> RenderAsync(UpstreamClient upstream, Uri? apiBase, byte[] chatRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var route = apiBase is null ? "../apply-template" : new Uri(apiBase, "../apply-template").ToString();
        try
        {
            using var rendered = await upstream.SendAsync(HttpMethod.Post, route, chatRequest, "application/json", "application/json", clientAuthorization: null, cancellationToken);
            if (!rendered.IsSuccessStatusCode)
            {
                return null;
            }

            using var document = JsonDocument.Parse(await UpstreamBodies.ReadBoundedAsync(rendered.Content, MaxBodyBytes, cancellationToken));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("prompt", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException
                                              or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
