using HarmonyProxy.OpenAi;

namespace HarmonyProxy.Endpoints;

/// <summary>Writes errors in OpenAI's shape with the right status; never a stack trace.</summary>
internal static class ErrorResults
{
    public static async Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null, TimeSpan? retryAfter = null, string? wwwAuthenticate = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        // Clear() drops every header; the request id must survive on errors most of all.
        context.Response.Headers[RequestIdMiddleware.HeaderName] = context.TraceIdentifier;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (wwwAuthenticate is not null)
        {
            context.Response.Headers.WWWAuthenticate = wwwAuthenticate;
        }

        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.Response.Body.WriteAsync(OpenAiError.ToBytes(message, type, code, param), context.RequestAborted);
    }

    /// <summary>404 for any route the proxy does not serve.</summary>
    public static Task NotFoundAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, $"Unknown route: {context.Request.Method} {context.Request.Path}", OpenAiError.NotFound, "not_found");
}
