using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace HarmonyProxy.Endpoints;

/// <summary>Reads a request body up to a limit, whatever the server enforces on its own.</summary>
internal static class RequestBody
{
    /// <summary>The body, or null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Let Kestrel stop a lying client early; the loop below is the guarantee.
            sizeFeature.MaxRequestBodySize = maxBytes + 1;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
