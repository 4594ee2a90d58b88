using HarmonyProxy.Diagnostics;
using System.Buffers;
using HarmonyProxy.Preparation;
using Microsoft.AspNetCore.Http.Features;

namespace HarmonyProxy.Endpoints;

/// <summary>Reads a request body up to a limit, whatever the server enforces on its own.</summary>
internal static class RequestBody
{
    /// <summary>
    /// The body as a JSON object, or the problem: 413 over the limit, 400 for what is not JSON or
    /// not an object. The bytes die here; only the tree goes on.
    /// </summary>
    public static async Task<(System.Text.Json.Nodes.JsonObject? Json, RequestProblem? Problem)> ReadObjectAsync(HttpContext context, long maxBytes)
    {
        var body = await ReadAsync(context, maxBytes);
        if (body is null)
        {
            return (null, new RequestProblem(413, $"The request body is larger than the limit of {maxBytes} bytes.", null, "request_too_large"));
        }

        return RequestPreparer.ParseBody(body, out var problem) is System.Text.Json.Nodes.JsonObject json
            ? (json, null)
            : (null, problem ?? new RequestProblem(400, "The request body must be a JSON object.", null, "invalid_json"));
    }

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

        var bytes = buffer.ToArray();
        context.Features.Get<ITrafficRecorder>()?.ClientRequest(bytes);
        return bytes;
    }
}
