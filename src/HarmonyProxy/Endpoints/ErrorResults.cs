using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Anthropic;

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

        byte[] body;
        if (MessagesApi.Serves(context.Request.Path))
        {
            status = ForAnthropic(status, code);
            body = AnthropicError.ToBytes(status, message);
        }
        else
        {
            body = OpenAiError.ToBytes(message, type, code, param);
        }

        context.Response.StatusCode = status;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>404 for any route the proxy does not serve.</summary>
    public static Task NotFoundAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, $"Unknown route: {context.Request.Method} {context.Request.Path}", OpenAiError.NotFound, "not_found");

    /// <summary>
    /// An error's status as Anthropic's clients read it: a full queue, a loading or unreachable
    /// llama-server and an open breaker are a 529 <c>overloaded_error</c>, which they retry.
    /// </summary>
    private static int ForAnthropic(int status, string? code) =>
        code is "queue_full" or "circuit_open" or "upstream_unavailable" or "upstream_unreachable" ? 529 : status;
}
