using System.Text.Json;

namespace HarmonyProxy.Upstream;

/// <summary>
/// A prompt's size by llama-server's own tokenizer: the request rendered by its chat template
/// (<c>POST /apply-template</c>), then counted (<c>POST /tokenize</c>). Null when llama-server lacks
/// those routes (older builds), refuses them or cannot be reached: the caller then estimates.
/// </summary>
internal static class LlamaServerPromptTokens
{
    /// <summary>A rendered prompt and its tokens can be long; anything past this is not an answer of these routes.</summary>
    private const int MaxBodyBytes = 64 * 1024 * 1024;

    /// <param name="chatRequest">The chat request as it would be sent to llama-server (UTF-8 JSON).</param>
    public static async Task<int?> CountAsync(UpstreamClient upstream, byte[] chatRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        try
        {
            var prompt = await LlamaServerTemplate.RenderAsync(upstream, apiBase: null, chatRequest, cancellationToken);
            if (prompt is null)
            {
                return null;
            }

            var tokenizeBody = JsonSerializer.SerializeToUtf8Bytes(new TokenizeRequest(prompt, AddSpecial: false, ParseSpecial: true), UpstreamJsonContext.Default.TokenizeRequest);
            using var tokenized = await upstream.SendAsync(HttpMethod.Post, "../tokenize", tokenizeBody, "application/json", "application/json", clientAuthorization: null, cancellationToken);
            if (!tokenized.IsSuccessStatusCode)
            {
                return null;
            }

            using var tokens = JsonDocument.Parse(await UpstreamBodies.ReadBoundedAsync(tokenized.Content, MaxBodyBytes, cancellationToken));
            return tokens.RootElement.ValueKind == JsonValueKind.Object && tokens.RootElement.TryGetProperty("tokens", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.GetArrayLength()
                : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException
                                              or OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // Counting is a courtesy: a client gone or an upstream without the routes leaves the estimate.
            return null;
        }
    }
}

/// <summary><c>/tokenize</c>'s body: the rendered prompt already holds its special tokens as text.</summary>
internal sealed record TokenizeRequest(
    [property: System.Text.Json.Serialization.JsonPropertyName("content")] string Content,
    [property: System.Text.Json.Serialization.JsonPropertyName("add_special")] bool AddSpecial,
    [property: System.Text.Json.Serialization.JsonPropertyName("parse_special")] bool ParseSpecial);

[System.Text.Json.Serialization.JsonSerializable(typeof(TokenizeRequest))]
internal sealed partial class UpstreamJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
