namespace HarmonyProxy.Upstream;

/// <summary>Reads the small bodies llama-server answers outside a stream (errors, <c>/props</c>) with a bound, so a broken or hostile upstream cannot fill memory.</summary>
internal static class UpstreamBodies
{
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
