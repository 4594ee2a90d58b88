using HarmonyProxy.OpenAi;
using HarmonyProxy.OpenAi.Anthropic;

namespace HarmonyProxy.Endpoints;

/// <summary>Writes errors in OpenAI's shape with the right status; never a stack trace.</summary>
internal static partial class ErrorResults
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
            var anthropicMessage = ForAnthropic(ref status, code, message);
            body = AnthropicError.ToBytes(status, anthropicMessage);
        }
        else
        {
            body = OpenAiError.ToBytes(message, type, code, param);
        }

        context.Response.StatusCode = status;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// An error as Anthropic's clients read it: a full queue, a loading or unreachable llama-server
    /// and an open breaker are 529 <c>overloaded_error</c>; a
    /// prompt too long says <c>prompt is too long: N tokens &gt; M maximum</c>, the words Claude
    /// Code compacts its conversation on.
    /// </summary>
    private static string ForAnthropic(ref int status, string? code, string message)
    {
        if (code is "queue_full" or "circuit_open" or "upstream_unavailable" or "upstream_unreachable")
        {
            // A full queue, llama-server loading or every backend down: Anthropic's clients retry an overloaded 529.
            status = 529;
        }

        return code == "context_length_exceeded" && ContextSizes().Match(message) is { Success: true } sizes
            ? $"prompt is too long: {sizes.Groups["prompt"].Value} tokens > {sizes.Groups["context"].Value} maximum"
            : message;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"maximum context length is (?<context>\d+) tokens\. However, your messages resulted in (?<prompt>\d+) tokens", System.Text.RegularExpressions.RegexOptions.None, matchTimeoutMilliseconds: 50)]
    private static partial System.Text.RegularExpressions.Regex ContextSizes();

    /// <summary>404 for any route the proxy does not serve.</summary>
    public static Task NotFoundAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, $"Unknown route: {context.Request.Method} {context.Request.Path}", OpenAiError.NotFound, "not_found");
}
