namespace HarmonyProxy.Upstream;

/// <summary>
/// What llama-server's response bodies are: its stream, or the small bodies it answers outside a
/// stream (errors, <c>/props</c>), read with a bound so a broken or hostile upstream cannot fill memory.
/// </summary>
internal static class UpstreamBodies
{
    /// <summary>
    /// True when a completion's body is an SSE stream (<c>text/event-stream</c>, or no content type
    /// at all); false when an upstream that ignored <c>stream:true</c> answered with one JSON completion.
    /// </summary>
    public static bool IsEventStream(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return mediaType is null || mediaType.Contains("event-stream", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>At most <paramref name="maxBytes"/> of the body; the rest is left unread.</summary>
    public static async Task<byte[]> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[Math.Min(maxBytes, 16 * 1024)];
        var total = 0;
        int read;
        while (total < maxBytes && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
            if (total == buffer.Length && total < maxBytes)
            {
                Array.Resize(ref buffer, Math.Min(maxBytes, buffer.Length * 2));
            }
        }

        return buffer[..total];
    }
}
